import { parentPort } from 'node:worker_threads';
import { checkFrame } from './frames.js';
import type { FrameJob, FrameDone } from './pipeline.js';

// A verify thread: checks the frames it is sent, each on its own (frames.ts); the
// main thread keeps what runs in log order (chain across frames, Merkle tree, checkpoints).
const port = parentPort!;
port.on('message', (m: FrameJob) => {
  const check = checkFrame(Buffer.from(m.raw.buffer, m.raw.byteOffset, m.raw.byteLength), m.maxDecoded, m.frameCap);
  const done: FrameDone = { id: m.id, check };
  port.postMessage(done, [check.leaves.buffer as ArrayBuffer, check.lineEnds.buffer as ArrayBuffer]);
});
