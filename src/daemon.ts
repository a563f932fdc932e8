import { mkdir } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import chain from 'stream-chain';
import { deliverAcks } from './acks.js';
import { createClock } from './clock.js';
import type { Config } from './config.js';
import { ControlServer } from './control.js';
import { finishRotation, keysExist, loadHmacKey, loadRing, loadSigner, pendingRotation, writeKeys } from './crypto/keyFiles.js';
import { EventCounts } from './eventCounts.js';
import { Metrics } from './http/metrics.js';
import { HttpService } from './http/service.js';
import { startJobs, transitionRecord } from './jobs/startJobs.js';
import type { Logger } from './log.js';
import { loadNative } from './native.js';
import { takeActivatedFd } from './service/activation.js';
import { startNotifier } from './service/notify.js';
import { Reloader, type ReloadOutcome } from './service/reload.js';
import { signatureHandler } from './sign/sealSignature.js';
import { Ingest } from './sources/ingest.js';
import { InputBudget } from './sources/inputBudget.js';
import { SocketSource } from './sources/socket.js';
import { SpoolSource } from './sources/spool.js';
import { SpoolProgress } from './sources/spoolProgress.js';
import { batchStage } from './stages/batch.js';
import { compress, compressStage } from './stages/compress.js';
import { loadDedupe, type Deduper } from './stages/dedupe.js';
import { prepare } from './stages/prepare.js';
import { PrepareStage } from './stages/prepareStage.js';
import { rotateSink } from './stages/rotate.js';
import { createSealer } from './stages/seal.js';
import { startSinks, type Sinks } from './sinks/startSinks.js';
import { watchForStall } from './stallWatch.js';
import { Status } from './status.js';
import { reportStatus } from './statusReport.js';
import { explainAccess } from './store/access.js';
import { layout, type Layout } from './store/layout.js';
import { acquireLock } from './store/lock.js';
import { recover, type TornTail } from './store/recovery.js';
import { recordsFrom } from './store/scan.js';
import { SegmentStore } from './store/segmentStore.js';
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
  try {
    return await start(cfg, log);
  } catch (err) {
    throw await explainAccess(err);
  }
}

async function start(cfg: Config, log: Logger): Promise<Daemon> {
  const l = layout(cfg.data_dir);
  // The spool is made by its source (mode 1770: see spoolDirs.ts).
  for (const dir of [l.data, l.segments, l.checkpoints]) await mkdir(dir, { recursive: true, mode: 0o750 });
  const releaseLock = await acquireLock(l.lock);
  const status = new Status();
  try {
    if (!(await keysExist(l))) {
      const { verifierKey } = await writeKeys(l, cfg.origin);
      log.info({ publicKey: verifierKey, dir: l.keys }, 'created signing and HMAC keys on first start');
    }
    // A rotation prepared by `sealog rotate-key` while the daemon was stopped: the new key
    // signs from the start (recovery included), and the transition is the first record.
    const rotation = await pendingRotation(l);
    const signer = rotation ? rotation.next : await loadSigner(l);
    // Refuses a missing or malformed keys/hmac.key; the key goes into the pseudonymizer only (in the
    // front's worker), never to a log. Every pattern, field rule and schema is compiled there, once.
    const hmacKey = await loadHmacKey(l);
    let front: PrepareStage;
    try {
      front = new PrepareStage(cfg, hmacKey);
    } finally {
      hmacKey.fill(0);
    }
    try {
      await front.ready;
    } catch (err) {
      front.destroy();
      throw err;
    }
    const counts = new EventCounts();
    const metrics = new Metrics();
    const recovered = await recover(l, cfg.origin, signer, [...(await loadRing(l)), ...(rotation ? [rotation.oldKey] : [])], cfg.limits.max_frame_bytes, log);
    let dedupe: Deduper | undefined;
    let sinks: Sinks | undefined;
    const store = new SegmentStore(
      {
        layout: l,
        origin: cfg.origin,
        signer,
        fsync: { mode: cfg.fsync.mode, intervalMs: cfg.fsync.interval_ms },
        checkpoint: { everyRecords: cfg.checkpoint.every_records, everyMs: cfg.checkpoint.every_seconds * 1000 },
        log,
        onCommit: (records) => {
          counts.durable(records);
          deliverAcks(records);
          dedupe?.committed(records[records.length - 1]!.seq);
          sinks?.wake();
        },
        observe: metrics.observe,
        onDiskFull: (problem) => status.setHealth('disk', problem ? 'unhealthy' : 'ok', problem ? `${problem}: input paused until space returns` : ''),
      },
      recovered.state,
      recovered.lastCheckpointSize,
    );
    const seal = createSealer({ nextSeq: recovered.state.tree.size, prev: recovered.state.lastHash }, createClock());

    // The daemon's own audit records (a cut torn tail) are sealed and committed before any input.
    for (const draft of [...recovered.torn.map(tornRecord), ...(rotation ? [transitionRecord(rotation)] : [])]) {
      const s = seal(prepare(draft, false));
      counts.received('sealog');
      await store.append(await compress({ records: [s], bytes: s.line.length }));
    }
    if (rotation) {
      await finishRotation(l, rotation);
      log.info({ publicKey: rotation.newKey }, 'key rotation finished: the new key signs from here on');
    }

    if (cfg.dedupe.enabled) {
      dedupe = await loadDedupe(cfg, l, store.treeSize, (kind) => counts.duplicate(kind), (why) => status.setHealth('dedupe', 'degraded', `window rebuilt only in part at start: ${why}`), log);
      const d = dedupe;
      status.section('dedupe', () => ({ entries: d.entries, ...d.counts }));
    }
    const sink = rotateSink(store, { maxBytes: cfg.segment.max_bytes, maxAgeMs: cfg.segment.max_age_seconds * 1000 });
    // Reload changes these in place: the batcher reads its limits object at each record.
    const batchLimits = { maxRecords: cfg.batch.max_records, maxBytes: cfg.batch.max_bytes, lingerMs: cfg.batch.linger_ms };
    const pipeline = chain([front, ...(dedupe ? [dedupe.stage] : []), seal, batchStage(batchLimits), compressStage(), sink], {
      writableHighWaterMark: cfg.limits.queue_items,
    });
    const ingest = new Ingest(pipeline, counts);
    const addon = loadNative();
    if (addon.error) log.warn({ reason: addon.error }, 'native addon unavailable: socket records carry no sender pid/uid/gid and systemd notification is off');
    status.section('peer_credentials', () => (addon.native ? 'kernel (SO_PEERCRED)' : `unavailable: ${addon.error}`));
    const budget = new InputBudget(cfg.limits.input_buffer_bytes, (full, used) =>
      status.setHealth('input', full ? 'degraded' : 'ok', `input buffer budget full (${used} of ${cfg.limits.input_buffer_bytes} bytes, limits.input_buffer_bytes): sockets paused until lines are taken`),
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
      ingest,
      budget,
      log,
    );
    const done = Promise.all([finished(sink), finished(pipeline, { readable: false })]).then(() => {});
    done.catch(() => {}); // observed by the caller through `done`
    // The socket first: it is what refuses to start beside a live daemon, before anything else runs.
    await socket.start();
    let spool: SpoolSource | undefined;
    try {
      if (cfg.spool.enabled) spool = await startSpool(cfg, l, ingest, () => store.progress.durableThrough, log);
    } catch (err) {
      await socket.stopAccepting();
      throw err;
    }
    const control = new ControlServer(
      cfg.control.path,
      parseInt(cfg.control.mode, 8),
      { status: () => status.report(), sign: signatureHandler(l, cfg.limits.max_frame_bytes, ingest.audit) },
      log,
    );
    try {
      await control.listen();
    } catch (err) {
      await spool?.stopAccepting();
      await socket.stopAccepting();
      throw err;
    }
    reportStatus(status, { cfg, counts, store, socket, pipeline, dedupe: dedupe !== undefined });
    // Sinks read the committed log beside the pipeline, never in it (DESIGN §11).
    try {
      sinks = await startSinks(cfg, l, () => store.progress.durableThrough, status, log);
    } catch (err) {
      await control.stop();
      await spool?.stopAccepting();
      await socket.stopAccepting();
      throw err;
    }
    const jobs = startJobs(cfg, l, store, ingest.audit, status, log);
    metrics.attach({ counts, status, treeSize: () => store.treeSize, progress: () => store.progress, segment: () => store.segment });
    const http = cfg.http.enabled
      ? await HttpService.start({
          cfg, layout: l, status, counts, metrics, ingest, log,
          logState: () => ({ treeSize: store.treeSize, ...store.progress }),
          runJob: (name) => jobs.runNow(name),
        })
      : undefined;
    log.info({ socket: listenFd === undefined ? cfg.socket.path : `fd ${listenFd} from systemd`, data: cfg.data_dir, origin: cfg.origin, nextSeq: recovered.state.tree.size }, 'sealog ready');

    const progress = () => {
      const t = counts.totals();
      return { accepted: t.in, committed: t.committed + t.rejected, pending: t.pending, lastCommitAt: store.progress.lastCommitAt };
    };
    const notifier = startNotifier(addon.native?.notify, log, status, progress);
    const stopStallWatch = watchForStall(status, progress, cfg.limits.stall_seconds * 1000);
    const reloader = new Reloader(cfg, (next) => {
      // Builds first (a bad rule or schema refuses the reload); the swap cannot fail.
      const swapFront = front.reload(next, (error) => log.error({ error }, 'configuration reload: the prepare worker could not take the new rules and keeps the old ones; restart sealog'));
      return () => {
        swapFront();
        Object.assign(batchLimits, { maxRecords: next.batch.max_records, maxBytes: next.batch.max_bytes, lingerMs: next.batch.linger_ms });
        log.level = next.log.level;
      };
    }, log);
    status.section('reload', () => reloader.status);

    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        notifier?.stopping();
        stopStallWatch();
        // Jobs first: a job still running may be waiting for its audit record to commit.
        await jobs.stop();
        await http?.beginStop();
        await socket.stopAccepting();
        await spool?.stopAccepting();
        ingest.end();
        await control.stop();
        try {
          await done;
          await http?.finish();
          await spool?.finish();
          await sinks?.stop();
        } finally {
          await socket.finish();
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
    { dir: cfg.spool.dir, stabilityMs: cfg.spool.stability_ms, idleMs: cfg.spool.idle_ms, onDone: cfg.spool.on_done, duplicates: cfg.spool.duplicates, maxLineBytes: cfg.socket.max_line_bytes, parallelFiles: cfg.spool.parallel_files, durableThrough },
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
