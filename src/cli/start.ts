import { loadConfig } from '../config.js';
import { startDaemon, type Daemon } from '../daemon.js';
import { createLogger } from '../log.js';
import { parseFlags } from './args.js';

export const help = `sealog start [--config FILE] [--data DIR] [--socket PATH] [--spool DIR]

Runs the daemon in the foreground. Without --config it runs on embedded defaults
under ./var/ (data in ./var/data, socket ./var/sealog.sock), creating the signing
and HMAC keys on first start. Flags override the config file; config/sealog.yaml
documents every option. Logs are JSON lines on stderr.

SIGTERM or SIGINT: stop accepting, commit everything accepted, write a final
checkpoint, exit 0. Exit 1 on a fatal error (invalid config, fsync failure,
a data, socket or spool directory it may not write: E_DATA_ACCESS).`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    config: { type: 'string', short: 'c' },
    data: { type: 'string' },
    socket: { type: 'string' },
    spool: { type: 'string' },
  });
  if (values.help) {
    console.log(help);
    return 0;
  }
  const cfg = loadConfig(values.config, { data: values.data, socket: values.socket, spool: values.spool });
  const log = createLogger(cfg.log.level);
  // Handlers first: a SIGTERM that comes as soon as `sealog ready` is read must stop the daemon
  // cleanly, not kill it (with no listener, the default action would).
  let stopRequested = false;
  let daemon: Daemon | undefined;
  const onSignal = (sig: string) => {
    log.info({ signal: sig }, 'stopping');
    stopRequested = true;
    daemon?.stop().catch(() => {});
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  daemon = await startDaemon(cfg, log);
  if (stopRequested) daemon.stop().catch(() => {});
  try {
    await daemon.done;
    await daemon.stop();
    return 0;
  } catch (err) {
    // A failed fsync or write leaves nothing we can vouch for: stop at once, write nothing more.
    log.fatal({ err }, 'fatal error; exiting without writing further');
    log.flush();
    return 1;
  }
}
