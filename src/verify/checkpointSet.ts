import { join } from 'node:path';
import type { Verifier } from '../crypto/keys.js';
import { VerifyCode } from '../errors.js';
import { openCheckpoint, type Checkpoint } from '../store/checkpoint.js';
import { listCheckpoints, type Layout } from '../store/layout.js';
import { NOTE_MAX_BYTES, readCapped } from '../store/safeRead.js';
import { fail } from './findings.js';
import type { SignedFile } from './keyTransitions.js';

export interface CheckpointSet {
  /** Each checked checkpoint by its tree size. */
  bySize: Map<number, { cp: Checkpoint; file: string }>;
  /** Checkpoint files read, the given one included. */
  count: number;
  /** Whether the data directory holds a checkpoint of its own. */
  own: boolean;
  /** The pinned origin, or the one the first checkpoint names. */
  origin: string | undefined;
  /** The tree size of the checkpoint given by the caller, if any. */
  extraSize?: number;
}

/**
 * Step 1 of verify: each checkpoint's signature under the trusted keys, its
 * origin, its file name against its size; two of one size must agree (no fork).
 * What signed each one is added to `signed`, for the key retirement check.
 */
export async function readCheckpoints(
  l: Layout,
  o: { keys: Verifier[]; origin?: string; extraCheckpoint?: { name: string; data: Buffer } },
  signed: SignedFile[],
): Promise<CheckpointSet> {
  const all = (await listCheckpoints(l)).map((c) => ({ file: join(l.checkpoints, c.name), n: c.n, extra: false }));
  const own = all.length > 0;
  if (o.extraCheckpoint) all.push({ file: o.extraCheckpoint.name, n: -1, extra: true });
  const bySize = new Map<number, { cp: Checkpoint; file: string }>();
  let origin = o.origin;
  let extraSize: number | undefined;
  for (const c of all) {
    const data = c.extra ? o.extraCheckpoint!.data : await readCapped(c.file, NOTE_MAX_BYTES);
    const opened = openCheckpoint(data, o.keys);
    if ('error' in opened) {
      fail({
        code: opened.signature ? VerifyCode.CHECKPOINT_SIGNATURE : VerifyCode.CHECKPOINT_INVALID,
        message: `${opened.error}${opened.signature ? ' (edited, or signed by a key other than the pinned one)' : ''}`,
        file: c.file,
      });
    }
    const cp = (opened as { checkpoint: Checkpoint }).checkpoint;
    signed.push({ size: cp.size, signer: (opened as { signer: Verifier }).signer, file: c.file, what: 'checkpoint' });
    if (c.extra) extraSize = cp.size;
    origin ??= cp.origin;
    if (cp.origin !== origin)
      fail({ code: VerifyCode.CHECKPOINT_ORIGIN, message: `checkpoint origin ${JSON.stringify(cp.origin)} is not ${JSON.stringify(origin)}`, file: c.file });
    if (!c.extra && c.n !== cp.size)
      fail({ code: VerifyCode.CHECKPOINT_INVALID, message: `file name says tree size ${c.n}, checkpoint says ${cp.size}`, file: c.file });
    const same = bySize.get(cp.size);
    if (same && !same.cp.root.equals(cp.root))
      fail({ code: VerifyCode.ROOT_MISMATCH, message: `two checkpoints of size ${cp.size} disagree on the root (a fork)`, file: c.file });
    bySize.set(cp.size, { cp, file: c.file });
  }
  return { bySize, count: all.length, own, origin, ...(extraSize !== undefined && { extraSize }) };
}
