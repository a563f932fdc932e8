#!/usr/bin/env node
// 4. Verify speed: `sealog verify` over the segments of a throughput run, in
// MB/s of uncompressed records, next to sha256sum and `lz4 -dc` over the same
// bytes (sha256sum over the decoded records, lz4 -dc decoding the segments).
//
// usage: node benchmarks/verify-speed.mjs [--events N] [--runs R] [--threads T] [--quick]
// Standalone it first ingests N events with sealog (fsync per batch) to have
// segments; run-all.mjs passes the segments of throughput run 1 instead.
import { openSync, closeSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { countSegmentRecords, segmentFiles } from './lib/check.mjs';
import { makeBuffer } from './lib/events.mjs';
import { isMain, machine, machineLine, toolVersion } from './lib/machine.mjs';
import { COMMON_USAGE, parseOptions } from './lib/options.mjs';
import { runMain, makeTempDir, removeTempDir, runCommand, runSealogCli, splitLines } from './lib/proc.mjs';
import { fmtNum, fmtRatio, fmtStat, markdownTable, stat, textTable } from './lib/stats.mjs';
import { runSealog } from './lib/systems.mjs';

export const VERIFY_TOOLS = [
  { key: 'sealog-verify', name: 'sealog verify --json (pinned key)' },
  { key: 'sha256sum', name: 'sha256sum of the decoded records' },
  { key: 'lz4', name: 'lz4 -dc of the segments > /dev/null' },
];

export const VERIFY_METHOD = (p, env) => [
  `data      the segments of ${p.source}: ${fmtNum(p.records)} records in ${p.segments} segment(s), ${(p.compressedBytes / 1e6).toFixed(1)} MB compressed, ${(p.recordBytes / 1e6).toFixed(1)} MB of record lines uncompressed`,
  `tools     sealog verify --threads ${p.threads} (every hash, the chain, the Merkle root at every checkpoint, signatures; node start-up included); ${p.sha256sum ?? 'sha256sum'}; ${p.lz4 ?? 'lz4'}`,
  `MB/s      10^6 bytes of uncompressed record lines / wall time, for all three; files in the page cache (just written)`,
  `runs      ${p.runs}, the three tools interleaved within each run`,
  `machine   ${machineLine(env)}`,
];

/** o: { runs, events, seed, quick, threads? (sealog verify --threads; default one per CPU) }. dataDir: segments to verify (else made here). */
export async function runVerifySpeed(o, { dataDir, source = 'throughput run 1 (sealog, fsync per batch)', log = console.log } = {}) {
  const env = machine();
  let ownDir;
  if (!dataDir) {
    const input = makeBuffer(o.events, o.seed);
    const r = await runSealog({ N: o.events, input, parts: splitLines(input, o.clients) }, { fsync: 'batch', verify: false, keep: true });
    if (r.check !== 'ok') throw new Error(`ingest for verify-speed failed: ${r.check}`);
    dataDir = r.dataDir;
    ownDir = r.dir;
    source = `a fresh ingest of ${fmtNum(o.events)} events (seed ${o.seed})`;
  }
  const work = makeTempDir('sealog-verify-');
  try {
    const segs = segmentFiles(dataDir);
    const all = join(work, 'segments.lz4');
    const records = join(work, 'records.ndjson');
    // Segments are concatenated LZ4 frames: one file decodes as one stream.
    const cat = await runCommand('sh', ['-c', 'out="$1"; shift; cat "$@" > "$out"', 'sh', all, ...segs]);
    if (cat.code !== 0) throw new Error(`cat segments: ${cat.stderr}`);
    const fd = openSync(records, 'w');
    const dec = await runCommand('lz4', ['-dc', all], { stdout: fd });
    closeSync(fd);
    if (dec.code !== 0) throw new Error(`lz4 -dc: ${dec.stderr}`);
    const recordBytes = statSync(records).size;
    const rec = await countSegmentRecords(dataDir);
    const threads = o.threads ?? availableParallelism();
    const params = {
      source,
      runs: o.runs,
      threads,
      records: rec.lines,
      segments: segs.length,
      compressedBytes: statSync(all).size,
      recordBytes,
      sha256sum: toolVersion('sha256sum'),
      lz4: toolVersion('lz4', ['--version']) ?? toolVersion('lz4', ['-V']),
    };
    log(['4. verify speed', ...VERIFY_METHOD(params, env).map((l) => '  ' + l)].join('\n'));

    const pub = join(dataDir, 'keys', 'signing.pub');
    const cmds = {
      'sealog-verify': async () => {
        const r = await runSealogCli(['verify', '--data', dataDir, '--key', pub, '--json', '--threads', String(threads)], 1_800_000);
        let v;
        try {
          v = JSON.parse(r.stdout);
        } catch {
          v = {};
        }
        const ok = r.code === 0 && v.ok && v.records === rec.lines;
        return {
          wallSec: r.wallSec,
          check: ok ? 'ok' : `FAIL: exit ${r.code}, ${JSON.stringify(v.failure ?? v).slice(0, 300)} ${r.stderr.slice(0, 300)}`,
          verdictBytes: v.bytes,
        };
      },
      sha256sum: async () => {
        const r = await runCommand('sha256sum', [records]);
        return { wallSec: r.wallSec, check: r.code === 0 ? 'ok' : `FAIL: ${r.stderr}`, digest: r.stdout.split(' ')[0] };
      },
      lz4: async () => {
        const r = await runCommand('lz4', ['-dc', all], { stdout: 'ignore' });
        return { wallSec: r.wallSec, check: r.code === 0 ? 'ok' : `FAIL: ${r.stderr}` };
      },
    };
    const runs = Object.fromEntries(VERIFY_TOOLS.map((t) => [t.key, []]));
    for (let run = 1; run <= o.runs; run++) {
      const shift = (run - 1) % VERIFY_TOOLS.length;
      const order = [...VERIFY_TOOLS.slice(shift), ...VERIFY_TOOLS.slice(0, shift)];
      for (const t of order) {
        let r;
        try {
          r = await cmds[t.key]();
        } catch (err) {
          r = { error: err.message, check: `ERROR: ${err.message}` };
        }
        r.run = run;
        if (r.wallSec) r.mbPerSec = recordBytes / 1e6 / r.wallSec;
        runs[t.key].push(r);
        log(`  run ${run}/${o.runs}  ${t.name.padEnd(38)} ${r.error ? r.check : `${r.wallSec.toFixed(2)} s, ${r.mbPerSec.toFixed(1)} MB/s, ${r.check}`}`);
      }
    }
    const summary = {};
    for (const t of VERIFY_TOOLS) {
      const ok = runs[t.key].filter((r) => !r.error);
      summary[t.key] = {
        mbPerSec: stat(ok.map((r) => r.mbPerSec)),
        wallSec: stat(ok.map((r) => r.wallSec)),
        allChecksOk: ok.length === runs[t.key].length && ok.every((r) => r.check === 'ok'),
      };
    }
    // In-run ratio: sealog verify's MB/s over sha256sum's (goal: at least 0.5).
    const ratios = [];
    for (const v of runs['sealog-verify']) {
      const s = runs.sha256sum.find((x) => x.run === v.run);
      if (v.mbPerSec && s?.mbPerSec) ratios.push(v.mbPerSec / s.mbPerSec);
    }
    summary.verifyVsSha256 = stat(ratios);
    return { date: new Date().toISOString(), params, machine: env, method: VERIFY_METHOD(params, env), summary, runs };
  } finally {
    removeTempDir(work);
    if (ownDir) removeTempDir(ownDir);
  }
}

export function verifyRows(res) {
  const rows = [['tool', 'MB/s (uncompressed records)', 'wall s', 'vs sha256sum', 'check']];
  for (const t of VERIFY_TOOLS) {
    const s = res.summary[t.key];
    const ratio = t.key === 'sha256sum' ? '1.00x' : t.key === 'sealog-verify' ? fmtRatio(res.summary.verifyVsSha256) : fmtRatio(ratioOf(res, t.key));
    rows.push([t.name, fmtStat(s.mbPerSec, 1), fmtStat(s.wallSec, 2), ratio, s.allChecksOk ? 'ok' : 'FAIL']);
  }
  return rows;
}

function ratioOf(res, key) {
  const xs = [];
  for (const a of res.runs[key]) {
    const b = res.runs.sha256sum.find((x) => x.run === a.run);
    if (a.mbPerSec && b?.mbPerSec) xs.push(a.mbPerSec / b.mbPerSec);
  }
  return stat(xs);
}

export const VERIFY_NOTES = ['median (min-max) over runs; vs sha256sum = median of in-run ratios of MB/s; goal: sealog verify at least 0.5x sha256sum.'];
export const verifyMarkdown = (res) => [markdownTable(verifyRows(res)), '', VERIFY_NOTES.join('\n')].join('\n');
export const printVerify = (res, log = console.log) => log('\n' + textTable(verifyRows(res)) + '\n' + VERIFY_NOTES.join('\n'));

if (isMain(import.meta.url)) {
  await runMain(async () => {
    const o = parseOptions(process.argv.slice(2), { threads: { type: 'string' } });
    const threads = o.threads === undefined ? undefined : Number(o.threads);
    if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) throw new Error(`--threads must be a positive integer, not ${o.threads}`);
    if (o.help)
      console.log(
        `usage: node benchmarks/verify-speed.mjs [options]\n${COMMON_USAGE}\n  --threads T   sealog verify --threads T (default: one per CPU, os.availableParallelism())`,
      );
    else {
      const res = await runVerifySpeed({ ...o, threads, events: process.argv.includes('--events') || o.quick ? o.events : 200_000 });
      printVerify(res);
      return VERIFY_TOOLS.every((t) => res.summary[t.key].allChecksOk) ? 0 : 1;
    }
  });
}
