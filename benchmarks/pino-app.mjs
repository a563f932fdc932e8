// node benchmarks/pino-app.mjs TARGET DEST COUNT: a pino app logging COUNT events through a transport
// (TARGET pino/file with DEST a file, or sealog/pino with DEST the socket), then ending. Prints
// {"loop_ms", "total_ms"}: the logging loop alone, and until the transport has finished (for
// sealog/pino: every line committed), both from the app's start of logging.
import pino from 'pino';
import { makeEventObjects } from './lib/events.mjs';

const [target, dest, count] = process.argv.slice(2);
const events = makeEventObjects(Number(count), 7);
const options = target === 'pino/file' ? { destination: dest, mkdir: true } : { socket: dest };
const transport = pino.transport({ target, options });
await new Promise((resolve) => transport.once('ready', resolve));
const logger = pino(transport);
const t0 = performance.now();
for (const e of events) logger.info(e);
const loop = performance.now() - t0;
process.once('exit', () => process.stdout.write(`${JSON.stringify({ loop_ms: loop, total_ms: performance.now() - t0 })}\n`));
transport.end();
