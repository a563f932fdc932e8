import { setPriority } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort } from 'node:worker_threads';
import { openRing, type KeyRing } from '../crypto/keyRing.js';
import { verifyLog } from '../verify/verifier.js';

/**
 * `sealog verify`'s own verifier, in a worker thread at the lowest CPU priority, so
 * that hashing a whole log neither holds up the daemon's event loop nor takes a
 * core from ingest when ingest needs it. The thread stays for the next sweep
 * (integrity.ts, runVerifier).
 */
export interface VerifyRequest {
  data: string;
  ring: KeyRing;
  origin: string;
  frameCap: number;
  /** Segment numbers to read; the others up to throughSegment are crossed through their manifests. */
  check: number[] | 'all';
  throughSegment: number;
}

// On Linux a nice value is per thread: this one yields the CPU to ingest (the main thread).
try {
  setPriority(19);
} catch {
  // not permitted or not supported: the sweep just runs at the daemon's priority
}
// A full GC after each segment. The hashes verify makes live in 8 KiB slabs outside the heap
// (hash.ts) that the Merkle tree's peaks keep alive past a scavenge, so they are promoted, and V8
// frees promoted outside memory only in a full GC, which it starts once that memory has grown by
// 64 MB: up to 70 MB of dead slabs in this thread. A full GC of its small heap takes a few ms.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

// One request at a time (runVerifier queues them), each answered by one message.
parentPort!.on('message', async (req: VerifyRequest) => {
  const check = req.check === 'all' ? undefined : new Set(req.check);
  try {
    const ring = openRing(req.ring, req.data);
    const verdict = await verifyLog({
      data: req.data,
      keys: ring.verifiers,
      retired: ring.limits,
      keyPinned: true,
      origin: req.origin,
      strict: false,
      frameCap: req.frameCap,
      threads: 1, // this thread alone: the sweep must never take more than a core from ingest
      partial: { check: (n) => !check || check.has(n), throughSegment: req.throughSegment },
      onProgress: () => gc(), // no argument: gc(options) reads its options from it
    });
    parentPort!.postMessage({ verdict });
  } catch (err) {
    parentPort!.postMessage({ error: (err as Error).message, code: (err as NodeJS.ErrnoException).code });
  }
});
