import { mkdir } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import chain from 'stream-chain';
import { deliverAcks } from './acks.js';
import { createClock } from './clock.js';
import type { Config } from './config.js';
import { keysExist, loadHmacKey, loadSigner, writeKeys } from './crypto/keyFiles.js';
import { createPseudonymizer } from './crypto/pseudonym.js';
import type { Logger } from './log.js';
import { Ingest } from './sources/ingest.js';
import { SocketSource } from './sources/socket.js';
import { SpoolSource } from './sources/spool.js';
import { SpoolProgress } from './sources/spoolProgress.js';
import { batchStage } from './stages/batch.js';
import { loadSchemas } from './classify/schemas.js';
import { createClassifier } from './stages/classify.js';
import { compress, compressStage } from './stages/compress.js';
import { parse } from './stages/parse.js';
import { createRedactor } from './redact/redactor.js';
import { loadNative } from './native.js';
import { takeActivatedFd } from './service/activation.js';
import { Notifier, notifyEnv } from './service/notify.js';
import { Reloader, type ReloadOutcome } from './service/reload.js';
import { rotateSink } from './stages/rotate.js';
import { createSanitizer } from './stages/sanitize.js';
import { createSealer } from './stages/seal.js';
import { layout, type Layout } from './store/layout.js';
import { acquireLock } from './store/lock.js';
import { recover, type TornTail } from './store/recovery.js';
import { recordsFrom } from './store/scan.js';
import { SegmentStore } from './store/segmentStore.js';
import { Status } from './status.js';
import type { Draft } from './types.js';

export interface Daemon {
  /** Stop accepting, drain and commit everything accepted, final checkpoint. */
  stop(): Promise<void>;
  /** Resolves when the pipeline ends (after stop), rejects on a fatal error such as a failed fsync. */
  done: Promise<void>;
  /** Health and live figures, for `sealog status`, systemd and the jobs. */
  status: Status;
  /** SIGHUP: `read` loads the config file again; an invalid one changes nothing. */
  reload(read: () => Config): ReloadOutcome;
}

export async function startDaemon(cfg: Config, log: Logger): Promise<Daemon> {
  const l = layout(cfg.data_dir);
  for (const dir of [l.data, l.segments, l.checkpoints, cfg.spool.dir]) await mkdir(dir, { recursive: true, mode: 0o750 });
  const releaseLock = await acquireLock(l.lock);
  const status = new Status();
  try {
    if (!(await keysExist(l))) {
      const { verifierKey } = await writeKeys(l, cfg.origin);
      log.info({ publicKey: verifierKey, dir: l.keys }, 'created signing and HMAC keys on first start');
    }
    const signer = await loadSigner(l);
    // Refuses a missing or malformed keys/hmac.key; the key goes into the pseudonymizer only, never to a log.
    // Every pattern and field rule is compiled here, once.
    const hmacKey = await loadHmacKey(l);
    const redactor = cfg.redact.enabled ? createRedactor(cfg.redact, createPseudonymizer(hmacKey)) : undefined;
    hmacKey.fill(0);
    const recovered = await recover(l, cfg.origin, signer, cfg.limits.max_frame_bytes, log);
    const store = new SegmentStore(
      {
        layout: l,
        origin: cfg.origin,
        signer,
        fsync: { mode: cfg.fsync.mode, intervalMs: cfg.fsync.interval_ms },
        checkpoint: { everyRecords: cfg.checkpoint.every_records, everyMs: cfg.checkpoint.every_seconds * 1000 },
        log,
        onCommit: deliverAcks,
      },
      recovered.state,
      recovered.lastCheckpointSize,
    );
    const seal = createSealer({ nextSeq: recovered.state.tree.size, prev: recovered.state.lastHash }, createClock());
    const sanitizerFor = (c: Config) => createSanitizer({ maxDepth: c.sanitize.max_depth, maxStringChars: c.sanitize.max_string_chars, maxItems: c.sanitize.max_items }, redactor);
    let sanitize = sanitizerFor(cfg);

    // The daemon's own audit records (a cut torn tail) are sealed and committed before any input.
    for (const t of recovered.torn) {
      const s = seal(tornRecord(t));
      await store.append(await compress({ records: [s], bytes: s.line.length }));
    }

    const sink = rotateSink(store, { maxBytes: cfg.segment.max_bytes, maxAgeMs: cfg.segment.max_age_seconds * 1000 });
    const classifierFor = (c: Config) => createClassifier({ rules: c.classify.rules, schemas: loadSchemas(c.classify.schemas_dir) });
    let classify = classifierFor(cfg);
    // Reload swaps these: the stages call through the variables, and the batcher reads its limits object at each record.
    const batchLimits = { maxRecords: cfg.batch.max_records, maxBytes: cfg.batch.max_bytes, lingerMs: cfg.batch.linger_ms };
    const pipeline = chain([parse, (d: Draft) => sanitize(d), (d: Draft) => classify(d), seal, batchStage(batchLimits), compressStage(), sink], {
      writableHighWaterMark: cfg.limits.queue_items,
    });
    const ingest = new Ingest(pipeline);
    const addon = loadNative();
    if (addon.error) log.warn({ reason: addon.error }, 'native addon unavailable: socket records carry no sender pid/uid/gid and systemd notification is off');
    status.section('peer_credentials', () => (addon.native ? 'kernel (SO_PEERCRED)' : `unavailable: ${addon.error}`));
    const listenFd = takeActivatedFd(process.env);
    const socket = new SocketSource(
      {
        path: cfg.socket.path,
        mode: parseInt(cfg.socket.mode, 8),
        maxLineBytes: cfg.socket.max_line_bytes,
        ackBufferBytes: cfg.socket.ack_buffer_bytes,
        peerCred: addon.native?.peerCred,
        listenFd,
      },
      ingest,
      log,
    );
    const done = Promise.all([finished(sink), finished(pipeline, { readable: false })]).then(() => {});
    done.catch(() => {}); // observed by the caller through `done`
    // The socket first: it is what refuses to start beside a live daemon, before anything else runs.
    await socket.listen();
    let spool: SpoolSource | undefined;
    try {
      if (cfg.spool.enabled) spool = await startSpool(cfg, l, ingest, log);
    } catch (err) {
      await socket.stop();
      throw err;
    }
    log.info({ socket: listenFd === undefined ? cfg.socket.path : `fd ${listenFd} from systemd`, data: cfg.data_dir, origin: cfg.origin, nextSeq: recovered.state.tree.size }, 'sealog ready');

    const notifier = startNotifier(addon.native?.notify, log, status, () => {
      const pending = ingest.accepted + recovered.torn.length - store.committedRecords;
      return { accepted: ingest.accepted, committed: store.committedRecords, pending, lastCommitAt: store.progress.lastCommitAt };
    });
    const reloader = new Reloader(cfg, (next, changed) => {
      // Build whatever can fail first; the returned swap cannot.
      const nextClassify = classifierFor(next); // always: the schema files may have changed on disk
      const nextSanitize = changed.some((k) => k.startsWith('sanitize.')) ? sanitizerFor(next) : sanitize;
      return () => {
        classify = nextClassify;
        sanitize = nextSanitize;
        Object.assign(batchLimits, { maxRecords: next.batch.max_records, maxBytes: next.batch.max_bytes, lingerMs: next.batch.linger_ms });
        log.level = next.log.level;
      };
    }, log);
    status.section('reload', () => reloader.status);

    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        notifier?.stopping();
        await socket.stop();
        await spool?.stop();
        ingest.end();
        try {
          await done;
          await spool?.saveProgress();
        } finally {
          socket.finish();
          await releaseLock();
        }
        log.info({ treeSize: store.treeSize }, 'sealog stopped: all accepted input committed and checkpointed');
      })());
    return { stop, done, status, reload: (read) => reloader.reload(read) };
  } catch (err) {
    await releaseLock();
    throw err;
  }
}

/** Type=notify when systemd asked for it ($NOTIFY_SOCKET): READY now, then STATUS and watchdog pings. */
function startNotifier(
  send: ((socket: string, message: string) => void) | undefined,
  log: Logger,
  status: Status,
  counts: () => { accepted: number; committed: number; pending: number; lastCommitAt: number },
): Notifier | undefined {
  const env = notifyEnv(process.env);
  delete process.env.NOTIFY_SOCKET; // for this process only, not for anything it starts
  if (!env) return undefined;
  if (!send) {
    log.error({ socket: env.socket }, 'NOTIFY_SOCKET is set but the native addon is not loaded: systemd will not see READY=1 (build it: npm rebuild)');
    return undefined;
  }
  const notifier = new Notifier({
    ...env,
    statusEveryMs: 5000,
    send,
    progress: counts,
    onStall: (stuck) => status.setHealth('watchdog', stuck ? 'unhealthy' : 'ok', 'records pending and nothing committed for a watchdog interval; pings withheld'),
    status: () => {
      const c = counts();
      return `${status.health().level}; accepted ${c.accepted}, committed ${c.committed}, pending ${c.pending}`;
    },
    log,
  });
  status.section('systemd', () => ({ notify_socket: env.socket, watchdog_ms: env.watchdogMs ?? null, ...notifier.counts }));
  notifier.ready();
  return notifier;
}

/** Rebuilds spool progress from its cache and the log after it, then starts watching. */
async function startSpool(cfg: Config, l: Layout, ingest: Ingest, log: Logger): Promise<SpoolSource> {
  const progress = new SpoolProgress(l.spoolState, l.spoolDone);
  await progress.load();
  for await (const r of recordsFrom(l, progress.throughSeq + 1, cfg.limits.max_frame_bytes)) {
    const done = progress.replay(r as { seq: number });
    if (done) await progress.markDone(done);
    progress.advance(r.seq);
  }
  const spool = new SpoolSource(
    { dir: cfg.spool.dir, stabilityMs: cfg.spool.stability_ms, onDone: cfg.spool.on_done, duplicates: cfg.spool.duplicates, maxLineBytes: cfg.socket.max_line_bytes, parallelFiles: cfg.spool.parallel_files },
    ingest,
    progress,
    log,
  );
  await spool.start();
  return spool;
}

function tornRecord(t: TornTail): Draft {
  return {
    source: { kind: 'sealog' },
    event: { action: 'recovery.torn_tail_cut', segment: t.segment, offset: t.offset, bytes: t.bytes, sha256: t.sha256, reason: t.reason, saved_as: t.savedAs },
    redactions: [],
    stream: 'audit',
    level: 'warn',
    type: 'sealog.recovery',
  };
}
