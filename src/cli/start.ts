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
a data, socket or spool directory it may not write: E_DATA_ACCESS); exit 2 on a
usage error (an unknown flag).

SIGHUP: read the config file again. An invalid file is refused (every problem
logged) and the running configuration stays in force. A valid one applies
log.level, classify.* (the schema files are read again too), batch.* and
sanitize.* at once; any other changed setting is logged by name and takes
effect only after a restart.

Under systemd: Type=notify ($NOTIFY_SOCKET: READY, STATUS, STOPPING, WATCHDOG
while commits progress) and socket activation ($LISTEN_FDS: the socket on fd 3).`;

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
  const overrides = { data: values.data, socket: values.socket, spool: values.spool };
  const cfg = loadConfig(values.config, overrides);
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
  // Installed before start too: SIGHUP's default action would end the process.
  process.on('SIGHUP', () => {
    if (daemon) daemon.reload(() => loadConfig(values.config, overrides));
    else log.warn('SIGHUP before the daemon was ready: ignored');
  });
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
