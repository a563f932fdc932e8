import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config.js';
import type { RawLine, Source } from '../types.js';
import { createFront, type Front } from './prepare.js';
import { RESULT_STRIDE, type ChunkMessage, type ResultMessage, type WorkerInit } from './prepareStage.js';

// The pipeline's front in a worker thread: parse, sanitize, classify and serialize,
// the CPU-heavy part of each event, beside the main thread that seals and writes.
const port = parentPort!;
const init = workerData as WorkerInit;
const hmacKey = Buffer.from(init.hmacKey.buffer, init.hmacKey.byteOffset, init.hmacKey.byteLength);
let front: Front;
try {
  front = createFront(init.cfg, hmacKey);
  port.postMessage({ ready: true });
} catch (err) {
  // A bad pattern or schema: the daemon refuses to start with this message and code.
  port.postMessage({ ready: false, error: (err as Error).message, code: (err as { code?: string }).code });
  process.exit(1);
} finally {
  hmacKey.fill(0);
}

port.on('message', (m: ChunkMessage | { reload: Config }) => {
  if ('reload' in m) {
    try {
      front.reload(m.reload)();
      port.postMessage({ reloaded: true });
    } catch (err) {
      port.postMessage({ reloaded: false, error: (err as Error).message });
    }
    return;
  }
  const bytes = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
  const out: (string | null)[] = new Array(m.kinds.length * RESULT_STRIDE);
  let extra = 0;
  let start = 0;
  for (let i = 0; i < m.kinds.length; i++) {
    const end = m.ends[i]!;
    const raw: RawLine = { bytes: bytes.subarray(start, end), source: { kind: m.kinds[i] as Source['kind'] } };
    start = end;
    if (extra < m.extras.length && m.extras[extra]![0] === i) Object.assign(raw, m.extras[extra++]![1]);
    if (raw.system) raw.system.source = raw.source;
    const p = front.run(raw);
    const o = i * RESULT_STRIDE;
    out[o] = p.eventJcs;
    out[o + 1] = p.metaJcs;
    out[o + 2] = p.redactionsJcs;
    out[o + 3] = p.stream;
    out[o + 4] = p.level;
    out[o + 5] = p.type;
    out[o + 6] = p.rejected?.code ?? null;
    out[o + 7] = p.rejected?.reason ?? null;
    out[o + 8] = p.dedupe?.key ?? null;
    out[o + 9] = p.dedupe?.digest ?? null;
  }
  port.postMessage({ out } satisfies ResultMessage);
});
