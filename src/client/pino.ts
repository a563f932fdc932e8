// sealog/pino: a pino transport that seals every log line through sealog/client.
//
//   const logger = pino({ transport: { target: 'sealog/pino', options: { socket: '/run/sealog/sealog.sock' } } });
//
// pino runs a transport in a worker thread; this one forwards each line as it is
// (no parse, no stringify: SealogClient.sendLine) with an event_id, so a resend
// after a reconnect is deduplicated. Levels need no mapping here: the daemon's
// classifier reads pino's numeric levels (10..60) as trace..fatal.
// When the logger ends (process exit included: pino waits for its transport),
// `close` waits until sealog has committed every line, or reports what it could not.
import build from 'pino-abstract-transport';
import { SealogClient, type ClientOptions } from './client.js';

export type PinoTransportOptions = Partial<ClientOptions>;

export default async function sealogTransport(opts: PinoTransportOptions = {}) {
  const client = await SealogClient.connect({ ...opts, socket: opts.socket ?? 'var/sealog.sock' });
  return build(
    async (source: AsyncIterable<string>) => {
      for await (const line of source) if (line) client.sendLine(line);
    },
    {
      parse: 'lines',
      async close() {
        try {
          await client.close();
        } catch (err) {
          // The worker's stderr reaches the app's: what was not committed is said, never swallowed.
          process.stderr.write(`sealog/pino: ${(err as Error).message}\n`);
        }
      },
    },
  );
}
