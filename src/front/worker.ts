import { parentPort, workerData } from 'node:worker_threads';
import { createFront, type Front } from './front.js';
import { decodeLines, encodeResults, type FrontInit, type LinesMessage, type ToMain, type ToWorker } from './protocol.js';

// The pipeline's front in a worker thread: parse, sanitize, classify and serialize,
// the CPU-heavy part of each event, beside the main thread that seals and writes.
const port = parentPort!;
const post = (m: ToMain) => port.postMessage(m);
const init = workerData as FrontInit;
const hmacKey = Buffer.from(init.hmacKey.buffer, init.hmacKey.byteOffset, init.hmacKey.byteLength);
let front: Front;
try {
  front = createFront(init.cfg, hmacKey);
  post({ type: 'ready' });
} catch (err) {
  // A bad pattern or schema: the daemon refuses to start with this message and code.
  post({ type: 'failed', error: (err as Error).message, code: (err as { code?: string }).code });
  process.exit(1);
} finally {
  hmacKey.fill(0);
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'reload') {
    try {
      front.reload(m.cfg)();
      post({ type: 'reloaded', ok: true });
    } catch (err) {
      post({ type: 'reloaded', ok: false, error: (err as Error).message });
    }
    return;
  }
  const { message, transfer } = encodeResults(decodeLines(m), front.runInto, resultsSizeHint(m));
  port.postMessage(message satisfies ToMain, transfer);
});

/** Room for a chunk's results: the records' own keys and blanks (~190 bytes) besides each event, which is rarely much longer than its line. */
function resultsSizeHint(m: LinesMessage): number {
  return Math.ceil(m.bytes.byteLength * 1.25) + m.ends.length * 256;
}
