// Did every line arrive? Output checks for the peers and the baselines
// (count and hash the output against the input), and a line counter for
// sealog's segments.
import { spawn } from 'node:child_process';
import { createReadStream, readdirSync } from 'node:fs';
import { hash } from 'node:crypto';
import { join } from 'node:path';
import { countNewlines } from './proc.mjs';

/**
 * Checks that `out` holds exactly the lines the clients sent, nothing lost,
 * changed or added. `parts` are the clients' pieces of the input ({ buf }).
 *
 * Fast path (exact): walks the output once, matching each line byte for byte
 * against the next unsent line of some client, so the output must be an
 * interleaving of the clients' streams with each one's order kept (what a
 * line-oriented server does). If that fails, a multiset comparison of per-line
 * MD5 digests counts what was lost and what was added or changed, whatever
 * the order.
 *
 * Returns { ok, lines, bytes, lost, extra, method, note }.
 */
export function checkOutput(parts, out) {
  const heads = parts.map((p) => ({ buf: p.buf, pos: 0 }));
  let last = 0;
  let lines = 0;
  let s = 0;
  let exact = true;
  while (s < out.length) {
    const e = out.indexOf(0x0a, s);
    if (e < 0) {
      exact = false; // a torn final line
      break;
    }
    const len = e + 1 - s;
    let hit = -1;
    // Try the client the previous line came from first: servers read in runs.
    for (let k = 0; k < heads.length && hit < 0; k++) {
      const c = (last + k) % heads.length;
      const h = heads[c];
      if (h.pos + len <= h.buf.length && out.compare(h.buf, h.pos, h.pos + len, s, e + 1) === 0) hit = c;
    }
    if (hit < 0) {
      exact = false;
      break;
    }
    heads[hit].pos += len;
    last = hit;
    lines++;
    s = e + 1;
  }
  if (exact && heads.every((h) => h.pos === h.buf.length)) {
    return { ok: true, lines, bytes: out.length, lost: 0, extra: 0, method: 'exact (every line byte-identical, per-connection order kept)' };
  }
  return multisetCheck(parts, out);
}

const digest = (buf, s, e) => hash('md5', buf.subarray(s, e), 'base64');

function forEachLine(buf, fn) {
  let s = 0;
  for (let e = buf.indexOf(0x0a); e >= 0; s = e + 1, e = buf.indexOf(0x0a, s)) fn(s, e);
  return s; // start of a torn tail, or buf.length
}

function multisetCheck(parts, out) {
  const want = new Map();
  let inLines = 0;
  for (const p of parts) {
    forEachLine(p.buf, (s, e) => {
      const d = digest(p.buf, s, e);
      want.set(d, (want.get(d) ?? 0) + 1);
      inLines++;
    });
  }
  let lines = 0;
  let extra = 0;
  const tail = forEachLine(out, (s, e) => {
    lines++;
    const d = digest(out, s, e);
    const n = want.get(d);
    if (n) want.set(d, n - 1);
    else extra++;
  });
  if (tail < out.length) extra++; // a final line without its newline is not the line that was sent
  let lost = 0;
  for (const n of want.values()) lost += n;
  const ok = lost === 0 && extra === 0;
  return {
    ok,
    lines,
    bytes: out.length,
    lost,
    extra,
    method: 'multiset of per-line MD5',
    note: ok
      ? `all ${inLines} lines present, but not in per-connection order`
      : `${lost} of ${inLines} input lines missing, ${extra} output lines not in the input`,
  };
}

/** Lines in a file, streamed. */
export async function countFileLines(file) {
  let n = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) n += countNewlines(chunk);
  return n;
}

/** The segment files of a sealog data dir, in order. */
export function segmentFiles(dataDir) {
  const dir = join(dataDir, 'segments');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.seg.lz4'))
    .sort()
    .map((f) => join(dir, f));
}

/**
 * Decodes sealog's segments with the lz4 CLI (concatenated frames decode as
 * one stream) and counts record lines and bytes. Independent of sealog's own
 * reader. Resolves { lines, bytes } or { error }.
 */
export function countSegmentRecords(dataDir) {
  const files = segmentFiles(dataDir);
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', 'cat "$@" | lz4 -dc', 'sh', ...files], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = 0;
    let bytes = 0;
    let err = '';
    child.stdout.on('data', (d) => {
      lines += countNewlines(d);
      bytes += d.length;
    });
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    child.once('error', (e) => resolve({ error: e.message }));
    child.once('close', (code) => resolve(code === 0 ? { lines, bytes } : { error: `lz4 -dc exited ${code}: ${err.trim().slice(0, 300)}` }));
  });
}
