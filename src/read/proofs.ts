/**
 * Proof bundles of DESIGN §10: building them from a trail, and checking them from the
 * bundle alone (check-proof, the HTTP API, a browser port) against a pinned key and origin.
 *
 * Exported API
 * - `InclusionBundle` `{ type: 'sealog.inclusion.v1', origin, leaf_index, tree_size, record, proof, checkpoint }`
 *   and `ConsistencyBundle` `{ type: 'sealog.consistency.v1', origin, old_size, new_size, proof,
 *   old_checkpoint, new_checkpoint }`; proof hashes are base64, checkpoints the signed note text.
 * - `inclusionBundle(trail, seq, { checkpoint? })`: RFC 9162 §2.1.3 path of `seq` against the given
 *   checkpoint or the newest one covering it. A seq past the newest checkpoint throws E_NOT_SEALED
 *   ("not yet sealed: wait for the next checkpoint"). The bundle is checked against its checkpoint's
 *   root before it is returned (a wrong cache of tree hashes is rebuilt; a log that does not
 *   produce the signed root throws E_INTEGRITY).
 * - `consistencyBundle(trail, old, { to? })`: RFC 9162 §2.1.4 proof that `old` (a checkpoint
 *   file, e.g. a witness's copy) is a prefix of `to` (default: the newest checkpoint).
 * - `checkBundle(bundle, keys, origin?)` → `{ ok: true, … }` or `{ ok: false, reason }`: everything
 *   from the bundle: the checkpoint signature(s) under the pinned key ring, the origin, the record's
 *   own hash, and the Merkle path (RFC 9162 §2.1.3.2 / §2.1.4.2).
 */
import type { Verifier } from '../crypto/keys.js';
import { ErrorCode, SealogError } from '../errors.js';
import { openCheckpoint } from '../store/checkpoint.js';
import { openLine } from '../store/recordLine.js';
import { emptyFilter } from './filter.js';
import { consistencyRanges, inclusionRanges, verifyConsistency, verifyInclusion, type Range } from './merkleProof.js';
import { query } from './query.js';
import type { CheckpointFile, Trail } from './trail.js';
import { treeHashes } from './treeHashes.js';

export interface InclusionBundle {
  type: 'sealog.inclusion.v1';
  origin: string;
  leaf_index: number;
  tree_size: number;
  record: string;
  proof: string[];
  checkpoint: string;
}

export interface ConsistencyBundle {
  type: 'sealog.consistency.v1';
  origin: string;
  old_size: number;
  new_size: number;
  proof: string[];
  old_checkpoint: string;
  new_checkpoint: string;
}

export type Bundle = InclusionBundle | ConsistencyBundle;

const notSealed = (seq: number, size: number | undefined) =>
  new SealogError(
    ErrorCode.NOT_SEALED,
    `seq ${seq} is not yet sealed: wait for the next checkpoint (the newest covers ${size === undefined ? 'no records' : `seq 0..${size - 1}`})`,
  );

/** The hashes of the ranges, from the stored tree hashes; retried once from the records when they prove wrong. */
async function proofHashes(trail: Trail, ranges: Range[], holds: (proof: Buffer[]) => boolean, what: string): Promise<Buffer[]> {
  const tree = treeHashes(trail);
  for (let attempt = 0; ; attempt++) {
    const proof: Buffer[] = [];
    for (const [a, b] of ranges) proof.push(await tree.subtree(a, b));
    if (holds(proof)) return proof;
    if (attempt > 0) throw new SealogError(ErrorCode.INTEGRITY, `${what}: the records do not produce the signed root (run sealog verify)`);
    await tree.discard(`${what} did not check`);
  }
}

export async function inclusionBundle(trail: Trail, seq: number, opts: { checkpoint?: CheckpointFile } = {}): Promise<InclusionBundle> {
  let cp = opts.checkpoint;
  if (!cp) {
    cp = await trail.newestCheckpoint();
    if (!cp || cp.size <= seq) throw notSealed(seq, cp?.size);
  } else if (cp.size <= seq) throw new SealogError(ErrorCode.NOT_SEALED, `seq ${seq} is not in checkpoint ${cp.file} (tree size ${cp.size})`);
  let found: { line: Buffer; hash: Buffer } | undefined;
  for await (const r of query(trail, { filter: { ...emptyFilter(), seqFrom: seq, seqTo: seq } }))
    found = { line: Buffer.from(r.line), hash: Buffer.from(r.hash) };
  if (!found) throw new SealogError(ErrorCode.INTEGRITY, `seq ${seq} is covered by checkpoint ${cp.size} but is not in the trail (removed by retention?)`);
  const { line, hash } = found;
  const root = cp.root;
  const proof = await proofHashes(
    trail,
    inclusionRanges(seq, cp.size),
    (p) => verifyInclusion(seq, cp.size, hash, p, root),
    `inclusion of seq ${seq} in tree size ${cp.size}`,
  );
  return {
    type: 'sealog.inclusion.v1',
    origin: cp.origin,
    leaf_index: seq,
    tree_size: cp.size,
    record: line.toString('utf8'),
    proof: proof.map((h) => h.toString('base64')),
    checkpoint: cp.text,
  };
}

export async function consistencyBundle(trail: Trail, old: CheckpointFile, opts: { to?: CheckpointFile } = {}): Promise<ConsistencyBundle> {
  const to = opts.to ?? (await trail.newestCheckpoint());
  if (!to) throw new SealogError(ErrorCode.NOT_SEALED, 'the trail has no checkpoint yet: wait for the first one');
  if (old.origin !== to.origin)
    throw new SealogError(ErrorCode.INTEGRITY, `the old checkpoint is of origin ${JSON.stringify(old.origin)}, the new one of ${JSON.stringify(to.origin)}`);
  if (old.size > to.size)
    throw new SealogError(
      ErrorCode.INTEGRITY,
      `the old checkpoint (tree size ${old.size}) is larger than the new one (${to.size}): the log was rolled back, or the two are the wrong way round`,
    );
  // First the trail against its own signed root (a wrong cache of tree hashes is rebuilt here);
  // then a proof that does not hold can only mean the old checkpoint is not of this log's past.
  await proofHashes(trail, [[0, to.size]], ([root]) => root!.equals(to.root), `tree size ${to.size}`);
  const ranges = consistencyRanges(old.size, to.size);
  const proof: Buffer[] = [];
  for (const [a, b] of ranges) proof.push(await treeHashes(trail).subtree(a, b));
  if (old.size > 0 && !verifyConsistency(old.size, to.size, proof, old.root, to.root)) {
    throw new SealogError(
      ErrorCode.INTEGRITY,
      `${old.file} is not a checkpoint of this log's history (a fork, or a log rewritten since): tree size ${old.size} is not consistent with ${to.size}`,
    );
  }
  return {
    type: 'sealog.consistency.v1',
    origin: to.origin,
    old_size: old.size,
    new_size: to.size,
    proof: proof.map((h) => h.toString('base64')),
    old_checkpoint: old.text,
    new_checkpoint: to.text,
  };
}

export type CheckResult =
  | { ok: true; type: Bundle['type']; origin: string; tree_size: number; leaf_index?: number; old_size?: number; signer: string }
  | { ok: false; reason: string };

const B64HASH = /^[A-Za-z0-9+/]{43}=$/;

function hashes(proof: unknown): Buffer[] | string {
  if (!Array.isArray(proof) || proof.length > 64) return 'proof is not a list of at most 64 hashes';
  const out: Buffer[] = [];
  for (const p of proof) {
    const h = typeof p === 'string' && B64HASH.test(p) ? Buffer.from(p, 'base64') : undefined;
    // Canonical base64 only: the last character's unused bits could otherwise vary unseen.
    if (!h || h.toString('base64') !== p) return 'proof holds something other than base64 32-byte hashes';
    out.push(h);
  }
  return out;
}

/** Opens a checkpoint note under the pinned keys and origin; names the problem otherwise. */
function pinnedCheckpoint(text: unknown, keys: readonly Verifier[], origin: string | undefined, which: string) {
  if (typeof text !== 'string') return `${which} is missing`;
  const opened = openCheckpoint(Buffer.from(text, 'utf8'), keys);
  if ('error' in opened) return `${which}: ${opened.error}`;
  if (origin !== undefined && opened.checkpoint.origin !== origin)
    return `${which} is of origin ${JSON.stringify(opened.checkpoint.origin)}, not the pinned ${JSON.stringify(origin)}`;
  return opened;
}

/** Checks a bundle (parsed, or its JSON text) offline: nothing in it is trusted before it is checked. */
export function checkBundle(input: unknown, keys: readonly Verifier[], origin?: string): CheckResult {
  const fail = (reason: string): CheckResult => ({ ok: false, reason });
  let b: Record<string, unknown>;
  try {
    b = (typeof input === 'string' ? JSON.parse(input) : input) as Record<string, unknown>;
  } catch {
    return fail('the bundle is not JSON');
  }
  if (!b || typeof b !== 'object') return fail('the bundle is not a JSON object');
  if (b.type === 'sealog.inclusion.v1') {
    const cp = pinnedCheckpoint(b.checkpoint, keys, origin, 'checkpoint');
    if (typeof cp === 'string') return fail(cp);
    const { checkpoint: c, signer } = cp;
    if (b.origin !== c.origin) return fail(`bundle origin ${JSON.stringify(b.origin)} is not the checkpoint's ${JSON.stringify(c.origin)}`);
    if (b.tree_size !== c.size) return fail(`bundle tree_size ${String(b.tree_size)} is not the checkpoint's ${c.size}`);
    if (!Number.isSafeInteger(b.leaf_index) || (b.leaf_index as number) < 0) return fail('leaf_index is not a seq');
    if (typeof b.record !== 'string') return fail('record is missing');
    const line = openLine(Buffer.from(b.record, 'utf8'));
    if (typeof line === 'string') return fail(`record: ${line}`);
    if (!line.canonical) return fail('record is not in canonical (RFC 8785) form');
    if (line.hash.toString('hex') !== line.claimed) return fail('record hash does not match its contents');
    if (line.seq !== b.leaf_index) return fail(`record is seq ${line.seq}, the bundle claims leaf ${String(b.leaf_index)}`);
    const proof = hashes(b.proof);
    if (typeof proof === 'string') return fail(proof);
    if (!verifyInclusion(line.seq, c.size, line.hash, proof, c.root))
      return fail(`the inclusion proof does not lead from record seq ${line.seq} to the checkpoint root`);
    return { ok: true, type: 'sealog.inclusion.v1', origin: c.origin, tree_size: c.size, leaf_index: line.seq, signer: signer.text };
  }
  if (b.type === 'sealog.consistency.v1') {
    const o = pinnedCheckpoint(b.old_checkpoint, keys, origin, 'old_checkpoint');
    if (typeof o === 'string') return fail(o);
    const n = pinnedCheckpoint(b.new_checkpoint, keys, origin, 'new_checkpoint');
    if (typeof n === 'string') return fail(n);
    const [oc, nc] = [o.checkpoint, n.checkpoint];
    if (oc.origin !== nc.origin || b.origin !== nc.origin) return fail('the two checkpoints and the bundle do not name one origin');
    if (b.old_size !== oc.size || b.new_size !== nc.size) return fail("old_size/new_size are not the checkpoints' tree sizes");
    if (oc.size > nc.size) return fail(`the old checkpoint (${oc.size}) is larger than the new one (${nc.size}): a rollback`);
    const proof = hashes(b.proof);
    if (typeof proof === 'string') return fail(proof);
    if (oc.size === 0)
      return proof.length === 0
        ? { ok: true, type: 'sealog.consistency.v1', origin: nc.origin, tree_size: nc.size, old_size: 0, signer: n.signer.text }
        : fail('a proof from the empty tree must be empty');
    if (!verifyConsistency(oc.size, nc.size, proof, oc.root, nc.root))
      return fail(`tree size ${oc.size} is not consistent with tree size ${nc.size}: the log was forked or rewritten`);
    return { ok: true, type: 'sealog.consistency.v1', origin: nc.origin, tree_size: nc.size, old_size: oc.size, signer: n.signer.text };
  }
  return fail(`unknown bundle type ${JSON.stringify(b.type)} (expected sealog.inclusion.v1 or sealog.consistency.v1)`);
}
