import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ZERO_HASH_HEX } from '../crypto/hash.js';
import type { Verifier } from '../crypto/keys.js';
import { CompactTree } from '../crypto/merkle.js';
import { VerifyCode } from '../errors.js';
import { openCheckpoint, type Checkpoint } from '../store/checkpoint.js';
import { layout, listCheckpoints, listSegments, manifestName } from '../store/layout.js';
import { openManifest, type Manifest } from '../store/manifest.js';
import { openLine } from '../store/recordLine.js';
import { segmentRecords } from '../store/records.js';

export interface Finding {
  code: string;
  message: string;
  seq?: number;
  segment?: string;
  offset?: number;
  file?: string;
}

export interface VerifyOptions {
  data: string;
  key: Verifier;
  keyPinned: boolean;
  origin?: string;
  /** A checkpoint saved earlier (e.g. by a witness) that the log must contain. */
  extraCheckpoint?: { name: string; data: Buffer };
  strict: boolean;
  frameCap: number;
  onProgress?(p: { segment: number; segments: number; records: number; bytes: number }): void;
}

export interface Verdict {
  ok: boolean;
  failure?: Finding;
  warnings: Finding[];
  records: number;
  segments: number;
  checkpoints: number;
  /** Uncompressed record bytes checked. */
  bytes: number;
  treeSize: number;
  root: string;
  origin?: string;
  keyPinned: boolean;
  originPinned: boolean;
  sealedThrough: number;
}

class Failed extends Error {
  constructor(readonly finding: Finding) {
    super(finding.message);
  }
}
const fail = (f: Finding): never => {
  throw new Failed(f);
};

/**
 * Re-derives everything from the records: every hash, the chain, the Merkle
 * root at each checkpoint. Trusts only the pinned key and origin; manifests
 * are cross-checked, never believed. Stops at the first failure.
 */
export async function verifyLog(o: VerifyOptions): Promise<Verdict> {
  const l = layout(o.data);
  const warnings: Finding[] = [];
  const tree = new CompactTree();
  let origin = o.origin;
  let bytes = 0;
  const v: Verdict = { ok: false, warnings, records: 0, segments: 0, checkpoints: 0, bytes: 0, treeSize: 0, root: '', keyPinned: o.keyPinned, originPinned: !!o.origin, sealedThrough: 0 };
  if (!o.keyPinned) warnings.push({ code: VerifyCode.KEY_NOT_PINNED, message: 'no --key given: signatures were checked against the key found in the data directory, which an attacker could have replaced' });
  try {
    // 1. Checkpoints: signature under the pinned key, origin, name matches size.
    const all = (await listCheckpoints(l)).map((c) => ({ file: join(l.checkpoints, c.name), n: c.n, extra: false }));
    if (o.extraCheckpoint) all.push({ file: o.extraCheckpoint.name, n: -1, extra: true });
    const checkpoints = new Map<number, { cp: Checkpoint; file: string }>();
    for (const c of all) {
      const data = c.extra ? o.extraCheckpoint!.data : await readFile(c.file);
      const opened = openCheckpoint(data, o.key);
      if ('error' in opened) {
        fail({
          code: opened.signature ? VerifyCode.CHECKPOINT_SIGNATURE : VerifyCode.CHECKPOINT_INVALID,
          message: `${opened.error}${opened.signature ? ' (edited, or signed by a key other than the pinned one)' : ''}`,
          file: c.file,
        });
      }
      const cp = (opened as { checkpoint: Checkpoint }).checkpoint;
      origin ??= cp.origin;
      if (cp.origin !== origin) fail({ code: VerifyCode.CHECKPOINT_ORIGIN, message: `checkpoint origin ${JSON.stringify(cp.origin)} is not ${JSON.stringify(origin)}`, file: c.file });
      if (!c.extra && c.n !== cp.size) fail({ code: VerifyCode.CHECKPOINT_INVALID, message: `file name says tree size ${c.n}, checkpoint says ${cp.size}`, file: c.file });
      const same = checkpoints.get(cp.size);
      if (same && !same.cp.root.equals(cp.root)) fail({ code: VerifyCode.ROOT_MISMATCH, message: `two checkpoints of size ${cp.size} disagree on the root (a fork)`, file: c.file });
      checkpoints.set(cp.size, { cp, file: c.file });
    }
    v.checkpoints = all.length;
    v.origin = origin;
    if (!o.origin) warnings.push({ code: VerifyCode.ORIGIN_NOT_PINNED, message: `no --origin given: took ${JSON.stringify(origin ?? '(none)')} from the checkpoints` });
    const newest = Math.max(0, ...checkpoints.keys());

    // 2. Segments in order: frames, records, chain, roots at checkpoints.
    const segments = await listSegments(l);
    let lastHash = ZERO_HASH_HEX;
    let manifestProblem: Finding | undefined;
    for (let i = 0; i < segments.length; i++) {
      const { n, name } = segments[i]!;
      if (i > 0 && n !== segments[i - 1]!.n + 1) {
        fail({ code: VerifyCode.SEGMENT_GAP, message: `segment ${String(segments[i - 1]!.n + 1).padStart(10, '0')} is missing`, segment: name, offset: 0, seq: tree.size });
      }
      const path = join(l.segments, name);
      const firstSeq = tree.size;
      const fileSha = createHash('sha256');
      let end = 0;
      for await (const f of segmentRecords(path, o.frameCap)) {
        if (!('lines' in f)) {
          fail({ code: VerifyCode.FRAME_CORRUPT, message: f.reason, seq: tree.size, segment: name, offset: f.offset });
          break;
        }
        end = f.offset + f.length;
        for (const line of f.lines) {
          const at = { seq: tree.size, segment: name, offset: f.offset };
          const r = openLine(line);
          if (typeof r === 'string') fail({ code: VerifyCode.RECORD_MALFORMED, message: r, ...at });
          const rec = r as Exclude<typeof r, string>;
          if (!rec.canonical) fail({ code: VerifyCode.NOT_CANONICAL, message: 'record line is not the canonical (RFC 8785) form of its contents', ...at });
          if (rec.hash.toString('hex') !== rec.claimed) fail({ code: VerifyCode.HASH_MISMATCH, message: `record hash does not match its contents (seq field says ${rec.seq})`, ...at });
          if (rec.seq !== tree.size) {
            fail({ code: VerifyCode.SEQ_MISMATCH, message: `found seq ${rec.seq} where seq ${tree.size} belongs (record ${rec.seq < tree.size ? 'duplicated or reordered' : 'deleted or reordered'})`, ...at });
          }
          if (rec.prev !== lastHash) fail({ code: VerifyCode.CHAIN_BROKEN, message: 'prev does not match the hash of the record before', ...at });
          tree.append(rec.hash);
          lastHash = rec.claimed;
          bytes += line.length + 1;
          const cp = checkpoints.get(tree.size);
          if (cp && !cp.cp.root.equals(tree.root())) {
            fail({ code: VerifyCode.ROOT_MISMATCH, message: `Merkle root of the first ${tree.size} records differs from the signed checkpoint`, ...at, file: cp.file });
          }
        }
      }
      const manifestPath = join(l.segments, manifestName(n));
      const mdata = await readFile(manifestPath).catch(() => undefined);
      if (mdata) {
        const opened = openManifest(mdata, o.key);
        if ('error' in opened) fail({ code: opened.signature ? VerifyCode.MANIFEST_SIGNATURE : VerifyCode.MANIFEST_INVALID, message: opened.error, file: manifestPath, segment: name });
        const m = (opened as { manifest: Manifest }).manifest;
        // Cheap to re-read a closed segment's bytes for the file hash; records were already checked.
        fileSha.update(await readFile(path));
        const derived = { segment: n, first_seq: firstSeq, last_seq: tree.size - 1, tree_size: tree.size, last_hash: lastHash, root: tree.root().toString('base64'), bytes: (await stat(path)).size, sha256: fileSha.digest('hex') };
        const diff = (Object.keys(derived) as (keyof typeof derived)[]).filter((k) => derived[k] !== m[k]);
        if (diff.length && !manifestProblem) {
          manifestProblem = { code: VerifyCode.MANIFEST_MISMATCH, message: `signed manifest disagrees with the segment on ${diff.join(', ')}`, file: manifestPath, segment: name, seq: firstSeq, offset: end };
        }
      }
      v.segments++;
      o.onProgress?.({ segment: i + 1, segments: segments.length, records: tree.size, bytes });
    }
    v.records = tree.size;
    v.treeSize = tree.size;
    v.root = tree.root().toString('base64');
    v.bytes = bytes;
    if (newest > tree.size) {
      const lastSeg = segments[segments.length - 1];
      fail({
        code: VerifyCode.TRUNCATED,
        message: `the log holds ${tree.size} records but a signed checkpoint covers ${newest}: records were removed from the end`,
        seq: tree.size,
        segment: lastSeg?.name,
        file: checkpoints.get(newest)!.file,
      });
    }
    if (manifestProblem) fail(manifestProblem);
    v.sealedThrough = newest;
    if (tree.size > newest) {
      const tail: Finding = {
        code: newest === 0 ? VerifyCode.NO_CHECKPOINT : VerifyCode.UNSEALED_TAIL,
        message: `${tree.size - newest} record(s) after the newest checkpoint (seq ${newest}..${tree.size - 1}) are chained but not sealed by a signature`,
        seq: newest,
      };
      if (o.strict) fail(tail);
      warnings.push(tail);
    }
    v.ok = true;
  } catch (err) {
    if (!(err instanceof Failed)) throw err;
    v.failure = err.finding;
    v.records = tree.size;
    v.bytes = bytes;
  }
  return v;
}
