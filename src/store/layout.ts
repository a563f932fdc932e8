import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Where everything lives under the data directory. */
export function layout(dataDir: string) {
  return {
    data: dataDir,
    segments: join(dataDir, 'segments'),
    checkpoints: join(dataDir, 'checkpoints'),
    keys: join(dataDir, 'keys'),
    recovery: join(dataDir, 'recovery'),
    /** Signed manifests of segments removed by retention, kept so verification resumes across the gap. */
    removed: join(dataDir, 'removed'),
    holds: join(dataDir, 'holds'),
    integrityState: join(dataDir, 'integrity-state.json'),
    lock: join(dataDir, 'sealog.lock'),
    spoolState: join(dataDir, 'spool-state.json'),
    spoolDone: join(dataDir, 'spool-done.jsonl'),
    signingKey: join(dataDir, 'keys', 'signing.key'),
    publicKey: join(dataDir, 'keys', 'signing.pub'),
    hmacKey: join(dataDir, 'keys', 'hmac.key'),
    /** Every public key this log was ever signed with, one per line: the auditor's key ring. */
    keyRing: join(dataDir, 'keys', 'ring.pub'),
    /** A rotation `sealog rotate-key` prepared and the daemon has not finished. */
    nextKey: join(dataDir, 'keys', 'next.key'),
    nextPub: join(dataDir, 'keys', 'next.pub'),
    transitionNote: join(dataDir, 'keys', 'transition.note'),
  };
}
export type Layout = ReturnType<typeof layout>;

const SEGMENT = /^(\d{10})\.seg\.lz4$/;
const CHECKPOINT = /^(\d{20})\.ckpt$/;
const MANIFEST = /^(\d{10})\.manifest$/;

export const segmentName = (n: number) => `${String(n).padStart(10, '0')}.seg.lz4`;
export const manifestName = (n: number) => `${String(n).padStart(10, '0')}.manifest`;
export const checkpointName = (size: number) => `${String(size).padStart(20, '0')}.ckpt`;

async function listNumbered(dir: string, re: RegExp): Promise<{ n: number; name: string }[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .map((name) => ({ name, m: re.exec(name) }))
    .filter((x) => x.m)
    .map((x) => ({ n: Number(x.m![1]), name: x.name }))
    .sort((a, b) => a.n - b.n);
}

export const listSegments = (l: Layout) => listNumbered(l.segments, SEGMENT);
export const listCheckpoints = (l: Layout) => listNumbered(l.checkpoints, CHECKPOINT);
/** Tombstones: the signed manifests of segments retention removed (data/removed/NNNNNNNNNN.manifest). */
export const listRemoved = (l: Layout) => listNumbered(l.removed, MANIFEST);
