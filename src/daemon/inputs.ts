import type { Config } from '../config.js';
import { ControlServer } from '../control.js';
import type { Logger } from '../log.js';
import { loadNative, type NativeLoad } from '../native.js';
import { takeActivatedFd } from '../service/activation.js';
import { signatureHandler } from '../sign/sealSignature.js';
import type { Ingest } from '../sources/ingest.js';
import { InputBudget } from '../sources/inputBudget.js';
import { SocketSource } from '../sources/socket.js';
import type { InputSource } from '../sources/source.js';
import { SpoolSource } from '../sources/spool.js';
import { SpoolProgress } from '../sources/spoolProgress.js';
import type { Status } from '../status.js';
import type { Layout } from '../store/layout.js';
import { recordsFrom } from '../store/scan.js';
import type { Pipeline } from './pipeline.js';

/** What feeds the pipeline and answers about it: the sources and the control socket. */
export interface Inputs {
  socket: SocketSource;
  spool: SpoolSource | undefined;
  /** Every source, in the order started: stopped and finished through their one lifecycle. */
  sources: InputSource[];
  control: ControlServer;
  /** The addon (peer credentials, systemd notification), or why it is not there. */
  addon: NativeLoad;
  /** Where the data socket is, for the log line that says sealog is ready. */
  listening: string;
}

/**
 * Starts the sources, then the control socket. The data socket first: it is what refuses
 * to start beside a live daemon, before anything else runs. On failure, what started is stopped.
 */
export async function startInputs(cfg: Config, l: Layout, p: Pipeline, status: Status, log: Logger): Promise<Inputs> {
  const addon = loadNative();
  if (addon.error) log.warn({ reason: addon.error }, 'native addon unavailable: socket records carry no sender pid/uid/gid and systemd notification is off');
  status.section('peer_credentials', () => (addon.native ? 'kernel (SO_PEERCRED)' : `unavailable: ${addon.error}`));
  // One budget for the input every connection holds before the pipeline takes it, whatever their number.
  const budget = new InputBudget(cfg.limits.input_buffer_bytes, (full, used) =>
    status.setHealth(
      'input',
      full ? 'degraded' : 'ok',
      `input buffer budget full (${used} of ${cfg.limits.input_buffer_bytes} bytes, limits.input_buffer_bytes): sockets paused until lines are taken`,
    ),
  );
  status.section('input_buffer', () => ({ bytes: budget.bytes, limit: budget.limit, paused: budget.paused, pauses: budget.pauses }));
  const listenFd = takeActivatedFd(process.env);
  const socket = new SocketSource(
    {
      path: cfg.socket.path,
      mode: parseInt(cfg.socket.mode, 8),
      maxLineBytes: cfg.socket.max_line_bytes,
      ackBufferBytes: cfg.socket.ack_buffer_bytes,
      maxConnections: cfg.socket.max_connections,
      peerCred: addon.native?.peerCred,
      listenFd,
    },
    p.ingest,
    budget,
    log,
  );
  await socket.start();
  let spool: SpoolSource | undefined;
  try {
    if (cfg.spool.enabled) spool = await startSpool(cfg, l, p.ingest, () => p.store.progress.durableThrough, log);
  } catch (err) {
    await socket.stopAccepting();
    throw err;
  }
  // Commands a handler serves on the control socket; jobs add theirs (holds, rotation requests).
  const handlers = { status: () => status.report(), sign: signatureHandler(l, cfg.limits.max_frame_bytes, p.ingest.audit) };
  const control = new ControlServer(cfg.control.path, parseInt(cfg.control.mode, 8), handlers, log);
  try {
    await control.listen();
  } catch (err) {
    await spool?.stopAccepting();
    await socket.stopAccepting();
    throw err;
  }
  return {
    socket,
    spool,
    sources: spool ? [socket, spool] : [socket],
    control,
    addon,
    listening: listenFd === undefined ? cfg.socket.path : `fd ${listenFd} from systemd`,
  };
}

/** Rebuilds spool progress from its cache and the log after it, then starts watching. */
async function startSpool(cfg: Config, l: Layout, ingest: Ingest, durableThrough: () => number, log: Logger): Promise<SpoolSource> {
  const progress = new SpoolProgress(l.spoolState, l.spoolDone);
  await progress.load();
  for await (const r of recordsFrom(l, progress.throughSeq + 1, cfg.limits.max_frame_bytes)) {
    const done = progress.replay(r as { seq: number });
    if (done) await progress.markDone(done);
    progress.advance(r.seq);
  }
  const spool = new SpoolSource(
    {
      dir: cfg.spool.dir,
      stabilityMs: cfg.spool.stability_ms,
      idleMs: cfg.spool.idle_ms,
      onDone: cfg.spool.on_done,
      duplicates: cfg.spool.duplicates,
      maxLineBytes: cfg.socket.max_line_bytes,
      parallelFiles: cfg.spool.parallel_files,
      durableThrough,
    },
    ingest,
    progress,
    log,
  );
  await spool.start();
  return spool;
}
