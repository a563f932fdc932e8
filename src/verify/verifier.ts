import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ZERO_HASH_HEX, sha256Hex } from '../crypto/hash.js';
import type { OpenedRing } from '../crypto/keyRing.js';
import type { Verifier } from '../crypto/keys.js';
import { CompactTree } from '../crypto/merkle.js';
import { ErrorCode, SealogError, VerifyCode } from '../errors.js';
import { layout, listRemoved, listSegments, manifestName, segmentName } from '../store/layout.js';
import { openManifest, type Manifest } from '../store/manifest.js';
import { NOTE_MAX_BYTES, readCapped } from '../store/safeRead.js';
import { readCheckpoints } from './checkpointSet.js';
import { Failed, fail, type Finding } from './findings.js';
import { CHAIN_MESSAGE, seqMessage } from './frames.js';
import { checkedFrames, FramePool } from './pipeline.js';
import { noteTransition, retiredLimits, retiredSignature, type KeyTransition, type SignedFile } from './keyTransitions.js';
import type { RegisteredSigner } from '../sign/registry.js';
import { checkRemovals, noteRemoval, type RemovedSegment, type Removals } from './removals.js';
import { checkSignatures, noteSignature, type CheckedSignature, type FoundSignature } from './signatures.js';

export type { Finding } from './findings.js';
export type { RemovedSegment } from './removals.js';

export interface VerifyOptions {
  data: string;
  /** The key ring: every public key the caller trusts. */
  keys: Verifier[];
  /** Retired keys bound by the key ring to the largest tree each may sign (keyRing.ts), per origin. */
  retired?: OpenedRing['limits'];
  keyPinned: boolean;
  origin?: string;
  /** A checkpoint saved earlier (e.g. by a witness) that the log must contain. */
  extraCheckpoint?: { name: string; data: Buffer };
  strict: boolean;
  frameCap: number;
  /** Threads that check frames, this one included; 1 checks them all here (the integrity sweep, so it never competes with ingest). */
  threads?: number;
  /**
   * A live log checked in part (the integrity sweep): only segments for which `check` is
   * true are read; the others are crossed through their signed manifests. Segments after
   * `throughSegment` (the open one) are left alone, and so are the checks that need the
   * whole log (truncation, the unsealed tail, removal records that may lie ahead).
   */
  partial?: { check(n: number): boolean; throughSegment: number };
  onProgress?(p: { segment: number; segments: number; records: number; bytes: number }): void;
  /** The registered signers electronic signatures are checked against; default: DATA/keys/signers.pub (not pinned). */
  signers?: RegisteredSigner[];
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
  /** Segments removed by retention, crossed through their signed manifests and the removal records that name them. */
  removed: RemovedSegment[];
  /** Segments a partial check crossed through their manifests without reading. */
  skipped: number;
  /** Key rotations sealed in the log: from `seq` on, `old` signs nothing. */
  keyTransitions: KeyTransition[];
  /** Electronic signatures sealed in the log (sealog.signature), each checked. */
  signatures: CheckedSignature[];
}

const unsafeFile: Record<string, string> = { [ErrorCode.NOT_REGULAR_FILE]: VerifyCode.NOT_REGULAR_FILE, [ErrorCode.FILE_TOO_LARGE]: VerifyCode.FILE_TOO_LARGE };

/**
 * Re-derives everything from the records: every hash, the chain, the Merkle
 * root at each checkpoint. Trusts only the pinned key and origin; manifests
 * are cross-checked, never believed. Stops at the first failure.
 */
export async function verifyLog(o: VerifyOptions): Promise<Verdict> {
  const l = layout(o.data);
  const warnings: Finding[] = [];
  let tree = new CompactTree();
  let origin = o.origin;
  let bytes = 0;
  const v: Verdict = {
    ok: false,
    warnings,
    records: 0,
    segments: 0,
    checkpoints: 0,
    bytes: 0,
    treeSize: 0,
    root: '',
    origin: o.origin,
    keyPinned: o.keyPinned,
    originPinned: !!o.origin,
    sealedThrough: 0,
    removed: [],
    skipped: 0,
    keyTransitions: [],
    signatures: [],
  };
  const signatures: FoundSignature[] = [];
  // What each checkpoint and manifest was signed with, to check against key retirements at the end.
  const signed: SignedFile[] = [];
  let records = 0;
  // This thread checks frames too (pipeline.ts): N threads are it and N-1 in the pool.
  const pool = (o.threads ?? 1) > 1 ? new FramePool(o.threads! - 1) : undefined;
  if (!o.keyPinned)
    warnings.push({
      code: VerifyCode.KEY_NOT_PINNED,
      message: 'no --key given: signatures were checked against the key found in the data directory, which an attacker could have replaced',
    });
  try {
    // 1. Checkpoints: signature under the pinned key, origin, name matches size.
    const cps = await readCheckpoints(l, o, signed);
    const checkpoints = cps.bySize;
    origin = cps.origin;
    const extraSize = cps.extraSize;
    v.checkpoints = cps.count;
    v.origin = origin;
    if (!o.origin)
      warnings.push({ code: VerifyCode.ORIGIN_NOT_PINNED, message: `no --origin given: took ${JSON.stringify(origin ?? '(none)')} from the checkpoints` });
    const newest = Math.max(0, ...checkpoints.keys());
    const present = new Set((await listSegments(l)).map((s) => s.n));
    const tombstones = new Set((await listRemoved(l)).map((s) => s.n));
    // An empty directory, or a sub-directory given by mistake, must never pass as an intact log.
    if (!o.partial && !present.size && !tombstones.size && !cps.own) {
      throw new SealogError(
        ErrorCode.NOT_A_LOG,
        `${o.data} is not a sealog data directory: it holds no segments/*.seg.lz4, no removed/*.manifest and no checkpoints/*.ckpt`,
      );
    }
    const cpSizes = [...checkpoints.keys()].sort((a, b) => a - b);

    // 2. Segments in order: frames, records, chain, roots at checkpoints. A segment removed by
    // retention is crossed through its kept signed manifest (its tombstone), which must continue
    // the chain and tree exactly where the segment before it ended.
    const numbers = [...new Set([...present, ...tombstones])].sort((a, b) => a - b).filter((n) => !o.partial || n <= o.partial.throughSegment);
    const removals: Removals = new Map();
    const tombstoneSha = new Map<number, string>();
    let lastHash = ZERO_HASH_HEX;
    let manifestProblem: Finding | undefined;
    const cross = async (n: number, file: string, why: 'removed' | 'skipped') => {
      const name = segmentName(n);
      const at = { segment: name, seq: tree.size, file };
      const data = await readCapped(file, NOTE_MAX_BYTES);
      const opened = openManifest(data, o.keys);
      if ('error' in opened) fail({ code: opened.signature ? VerifyCode.MANIFEST_SIGNATURE : VerifyCode.MANIFEST_INVALID, message: opened.error, ...at });
      const m = (opened as { manifest: Manifest }).manifest;
      signed.push({ size: m.tree_size, signer: (opened as { signer: Verifier }).signer, file, what: 'manifest' });
      if (m.segment !== n || m.last_seq !== m.tree_size - 1 || m.records !== m.tree_size - m.first_seq)
        fail({ code: VerifyCode.MANIFEST_INVALID, message: `signed manifest of ${why} segment is inconsistent`, ...at });
      if (m.first_seq !== tree.size)
        fail({ code: VerifyCode.SEQ_MISMATCH, message: `${why} segment's signed manifest starts at seq ${m.first_seq} where seq ${tree.size} belongs`, ...at });
      if (m.prev !== lastHash)
        fail({ code: VerifyCode.CHAIN_BROKEN, message: `${why} segment's signed manifest does not chain to the record before it`, ...at });
      let resumed: CompactTree | undefined;
      try {
        resumed = new CompactTree(
          m.tree_size,
          m.peaks.map((p) => Buffer.from(p, 'hex')),
        );
      } catch {
        // falls through to the root check
      }
      if (!resumed || resumed.root().toString('base64') !== m.root)
        fail({ code: VerifyCode.MANIFEST_INVALID, message: `${why} segment's signed manifest: its Merkle frontier does not hash to its root`, ...at });
      tree = resumed!;
      lastHash = m.last_hash;
      const cp = checkpoints.get(tree.size);
      if (cp && !cp.cp.root.equals(tree.root()))
        fail({
          code: VerifyCode.ROOT_MISMATCH,
          message: `Merkle root at tree size ${tree.size} (from the ${why} segment's signed manifest) differs from the signed checkpoint`,
          ...at,
          file: cp.file,
        });
      if (extraSize !== undefined && extraSize > m.first_seq && extraSize < m.tree_size) {
        warnings.push({
          code: VerifyCode.CHECKPOINT_UNCHECKED,
          message: `the given checkpoint (tree size ${extraSize}) falls inside ${why} segment ${name}: its root cannot be recomputed`,
          file: o.extraCheckpoint!.name,
        });
      }
      if (why === 'removed') {
        v.removed.push({ segment: n, first_seq: m.first_seq, last_seq: m.last_seq, tree_size: m.tree_size, root: m.root });
        tombstoneSha.set(n, sha256Hex(data));
      } else v.skipped++;
    };
    for (let i = 0; i < numbers.length; i++) {
      const n = numbers[i]!;
      const name = segmentName(n);
      if (i > 0 && n !== numbers[i - 1]! + 1) {
        fail({ code: VerifyCode.SEGMENT_GAP, message: `segment ${segmentName(numbers[i - 1]! + 1)} is missing`, segment: name, offset: 0, seq: tree.size });
      }
      if (!present.has(n)) {
        await cross(n, join(l.removed, manifestName(n)), 'removed');
        continue;
      }
      if (o.partial && !o.partial.check(n)) {
        const manifestPath = join(l.segments, manifestName(n));
        await cross(n, manifestPath, 'skipped');
        continue;
      }
      const path = join(l.segments, name);
      const firstSeq = tree.size;
      const fileSha = createHash('sha256');
      let end = 0;
      for await (const f of checkedFrames(path, o.frameCap, pool, fileSha)) {
        if (!('check' in f)) fail({ code: VerifyCode.FRAME_CORRUPT, message: f.reason, seq: tree.size, segment: name, offset: f.offset });
        const { offset, length, check: c } = f as Extract<typeof f, { check: unknown }>;
        if (c.corrupt) fail({ ...c.corrupt, seq: tree.size, segment: name, offset });
        end = offset + length;
        // The frame's own checks ran on a thread; what needs the log so far runs here, in log order.
        if (c.count > 0) {
          const at = { seq: tree.size, segment: name, offset };
          if (c.firstSeq !== tree.size) fail({ code: VerifyCode.SEQ_MISMATCH, message: seqMessage(c.firstSeq, tree.size), ...at });
          if (c.firstPrev !== lastHash) fail({ code: VerifyCode.CHAIN_BROKEN, message: CHAIN_MESSAGE, ...at });
        }
        const base = bytes;
        let own = 0;
        for (let i = 0; i < c.count; ) {
          // Feed the tree in runs, stopping after each of sealog's own records and at each checkpoint.
          let j = c.count;
          if (own < c.own.length) j = Math.min(j, c.own[own]!.index + 1);
          const cpAt = nextCheckpoint(cpSizes, tree.size);
          if (cpAt !== undefined) j = Math.min(j, i + cpAt - tree.size);
          tree.appendRange(c.leaves, i, j);
          records += j - i;
          bytes = base + c.lineEnds[j - 1]!;
          i = j;
          const at = { seq: tree.size - 1, segment: name, offset };
          if (own < c.own.length && c.own[own]!.index === j - 1) {
            const record = c.own[own++]!.record;
            noteRemoval(record, removals);
            noteSignature(record, signatures);
            const bad = noteTransition(record, v.keyTransitions);
            if (bad) fail({ code: VerifyCode.KEY_TRANSITION_INVALID, message: bad, ...at });
          }
          const cp = checkpoints.get(tree.size);
          if (cp && !cp.cp.root.equals(tree.root())) {
            fail({
              code: VerifyCode.ROOT_MISMATCH,
              message: `Merkle root of the first ${tree.size} records differs from the signed checkpoint`,
              ...at,
              file: cp.file,
            });
          }
        }
        if (c.count > 0) lastHash = c.lastHash;
        if (c.stop) fail({ code: c.stop.code, message: c.stop.message, seq: tree.size, segment: name, offset });
      }
      const manifestPath = join(l.segments, manifestName(n));
      // No manifest: the open segment (or one a crash left open).
      const mdata = await readCapped(manifestPath, NOTE_MAX_BYTES).catch((err: NodeJS.ErrnoException) =>
        err.code === 'ENOENT' ? undefined : Promise.reject(err),
      );
      if (mdata) {
        const opened = openManifest(mdata, o.keys);
        if ('error' in opened)
          fail({
            code: opened.signature ? VerifyCode.MANIFEST_SIGNATURE : VerifyCode.MANIFEST_INVALID,
            message: opened.error,
            file: manifestPath,
            segment: name,
          });
        const m = (opened as { manifest: Manifest }).manifest;
        signed.push({ size: m.tree_size, signer: (opened as { signer: Verifier }).signer, file: manifestPath, what: 'manifest' });
        const derived = {
          segment: n,
          first_seq: firstSeq,
          last_seq: tree.size - 1,
          tree_size: tree.size,
          last_hash: lastHash,
          root: tree.root().toString('base64'),
          bytes: (await stat(path)).size,
          sha256: fileSha.digest('hex'),
        };
        const diff = (Object.keys(derived) as (keyof typeof derived)[]).filter((k) => derived[k] !== m[k]);
        if (diff.length && !manifestProblem) {
          manifestProblem = {
            code: VerifyCode.MANIFEST_MISMATCH,
            message: `signed manifest disagrees with the segment on ${diff.join(', ')}`,
            file: manifestPath,
            segment: name,
            seq: firstSeq,
            offset: end,
          };
        }
      }
      v.segments++;
      o.onProgress?.({ segment: i + 1, segments: numbers.length, records: tree.size, bytes });
    }
    v.records = records;
    v.treeSize = tree.size;
    v.root = tree.root().toString('base64');
    v.bytes = bytes;
    checkRemovals(v.removed, removals, tombstoneSha, !!o.partial, warnings);
    const late = retiredSignature(retiredLimits(v.keyTransitions, o.retired ?? [], origin), signed);
    if (late) fail(late);
    if (o.partial) {
      if (manifestProblem) fail(manifestProblem);
      v.ok = true;
      return v;
    }
    if (newest > tree.size) {
      const lastSeg = numbers.length ? segmentName(numbers[numbers.length - 1]!) : undefined;
      fail({
        code: VerifyCode.TRUNCATED,
        message: `the log holds ${tree.size} records but a signed checkpoint covers ${newest}: records were removed from the end`,
        seq: tree.size,
        segment: lastSeg,
        file: checkpoints.get(newest)!.file,
      });
    }
    if (manifestProblem) fail(manifestProblem);
    const esigs = await checkSignatures(signatures, { data: o.data, frameCap: o.frameCap, signers: o.signers });
    v.signatures = esigs.checked;
    warnings.push(...esigs.warnings);
    if (esigs.failure) fail(esigs.failure);
    v.sealedThrough = newest;
    if (tree.size > newest) {
      // With no checkpoint at all nothing in the log is signed: anyone could have written it.
      if (newest === 0)
        fail({
          code: VerifyCode.NO_CHECKPOINT,
          message: `the log holds ${tree.size} record(s) and no signed checkpoint: nothing in it is signed, so nothing vouches for it`,
          seq: 0,
        });
      const tail: Finding = {
        code: VerifyCode.UNSEALED_TAIL,
        message: `${tree.size - newest} record(s) after the newest checkpoint (seq ${newest}..${tree.size - 1}) are chained but not sealed by a signature`,
        seq: newest,
      };
      if (o.strict) fail(tail);
      warnings.push(tail);
    }
    v.ok = true;
  } catch (err) {
    const unsafe = err instanceof SealogError && unsafeFile[err.code];
    if (!(err instanceof Failed) && !unsafe) throw err;
    // A file that is not what a log is made of (a link to /dev/zero, a FIFO, a huge "checkpoint") is damage, not an I/O error.
    v.failure = err instanceof Failed ? err.finding : { code: unsafe as string, message: (err as Error).message };
    v.records = records;
    v.bytes = bytes;
  } finally {
    await pool?.close();
  }
  return v;
}

/** The smallest checkpoint size above `size`, if any. */
function nextCheckpoint(sizes: number[], size: number): number | undefined {
  let lo = 0;
  let hi = sizes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sizes[mid]! <= size) lo = mid + 1;
    else hi = mid;
  }
  return sizes[lo];
}
