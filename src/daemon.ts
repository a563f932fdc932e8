import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Duplex } from 'node:stream';
import { finished } from 'node:stream/promises';
import chain from 'stream-chain';
import { deliverAcks } from './acks.js';
import { ControlServer } from './control.js';
import { EventCounts } from './eventCounts.js';
import { createClock } from './clock.js';
import type { Config } from './config.js';
import { finishRotation, keysExist, loadHmacKey, loadRing, loadSigner, pendingRotation, writeKeys, type PendingRotation } from './crypto/keyFiles.js';
import { TRANSITION_TYPE } from './verify/verifier.js';
import { createPseudonymizer } from './crypto/pseudonym.js';
import type { Logger } from './log.js';
import { Ingest } from './sources/ingest.js';
import { SocketSource } from './sources/socket.js';
import { SpoolSource } from './sources/spool.js';
import { SpoolProgress } from './sources/spoolProgress.js';
import { batchStage } from './stages/batch.js';
import { loadSchemas } from './classify/schemas.js';
import { createClassifier } from './stages/classify.js';
import { Deduper } from './stages/dedupe.js';
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
import { recentLines, recordsFrom } from './store/scan.js';
import { SegmentStore } from './store/segmentStore.js';
import { Status } from './status.js';
import { auditSealer, type SealAudit } from './jobs/auditRecord.js';
import { applyHoldRequests } from './jobs/holds.js';
import { integritySweep } from './jobs/integrity.js';
import { parseDuration, retentionJob } from './jobs/retention.js';
import { Jobs } from './jobs/scheduler.js';
import { ErrorCode, SealogError } from './errors.js';
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
  for (const dir of [l.data, l.segments, l.checkpoints, cfg.spool.dir]) await mkdir(dir, { recursive: true, mode: 0o750 });
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
    // Refuses a missing or malformed keys/hmac.key; the key goes into the pseudonymizer only, never to a log.
    // Every pattern and field rule is compiled here, once.
    const hmacKey = await loadHmacKey(l);
    const redactor = cfg.redact.enabled ? createRedactor(cfg.redact, createPseudonymizer(hmacKey)) : undefined;
    hmacKey.fill(0);
    const counts = new EventCounts();
    const recovered = await recover(l, cfg.origin, signer, [...(await loadRing(l)), ...(rotation ? [rotation.oldKey] : [])], cfg.limits.max_frame_bytes, log);
    let dedupe: Deduper | undefined;
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
        },
        onDiskFull: (problem) => status.setHealth('disk', problem ? 'unhealthy' : 'ok', problem ? `${problem}: input paused until space returns` : ''),
      },
      recovered.state,
      recovered.lastCheckpointSize,
    );
    const seal = createSealer({ nextSeq: recovered.state.tree.size, prev: recovered.state.lastHash }, createClock());
    const sanitizerFor = (c: Config) => createSanitizer({ maxDepth: c.sanitize.max_depth, maxStringChars: c.sanitize.max_string_chars, maxItems: c.sanitize.max_items }, redactor);
    let sanitize = sanitizerFor(cfg);

    // The daemon's own audit records (a cut torn tail) are sealed and committed before any input.
    for (const draft of [...recovered.torn.map(tornRecord), ...(rotation ? [transitionRecord(rotation)] : [])]) {
      const s = seal(draft);
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
    const classifierFor = (c: Config) => createClassifier({ rules: c.classify.rules, schemas: loadSchemas(c.classify.schemas_dir) });
    let classify = classifierFor(cfg);
    // Reload swaps these: the stages call through the variables, and the batcher reads its limits object at each record.
    const batchLimits = { maxRecords: cfg.batch.max_records, maxBytes: cfg.batch.max_bytes, lingerMs: cfg.batch.linger_ms };
    const pipeline = chain([parse, (d: Draft) => sanitize(d), (d: Draft) => classify(d), ...(dedupe ? [dedupe.stage] : []), seal, batchStage(batchLimits), compressStage(), sink], {
      writableHighWaterMark: cfg.limits.queue_items,
    });
    const ingest = new Ingest(pipeline, counts);
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
        maxConnections: cfg.socket.max_connections,
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
      if (cfg.spool.enabled) spool = await startSpool(cfg, l, ingest, () => store.progress.durableThrough, log);
    } catch (err) {
      await socket.stop();
      throw err;
    }
    const control = new ControlServer(cfg.control.path, parseInt(cfg.control.mode, 8), status, log);
    try {
      await control.listen();
    } catch (err) {
      await spool?.stop();
      await socket.stop();
      throw err;
    }
    reportStatus(status, { cfg, counts, store, socket, pipeline });
    const jobs = startJobs(cfg, l, store, auditSealer(ingest), status, log);
    log.info({ socket: listenFd === undefined ? cfg.socket.path : `fd ${listenFd} from systemd`, data: cfg.data_dir, origin: cfg.origin, nextSeq: recovered.state.tree.size }, 'sealog ready');

    const notifier = startNotifier(addon.native?.notify, log, status, () => {
      const t = counts.totals();
      return { accepted: t.in, committed: t.committed + t.rejected, pending: t.pending, lastCommitAt: store.progress.lastCommitAt };
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
        // Jobs first: a job still running may be waiting for its audit record to commit.
        await jobs.stop();
        await socket.stop();
        await spool?.stop();
        ingest.end();
        await control.stop();
        try {
          await done;
          await spool?.saveProgress(true);
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

/** The cron jobs (DESIGN §1), each on its schedule from config, in UTC. */
function startJobs(cfg: Config, l: Layout, store: SegmentStore, seal: SealAudit, status: Status, log: Logger): Jobs {
  const jobs = new Jobs(log, status);
  const holds = () => applyHoldRequests(l, seal, log);
  // What the CLI asks of a running daemon: hold, release, rotate-key. Shares retention's lock:
  // a hold request is sealed and applied before any removal that would ignore it.
  const requests = async () => {
    const h = await holds();
    const rotated = await applyRotation(l, store, seal, log);
    return { placed: h.placed, released: h.released, active: h.active.length, rotated };
  };
  jobs.add({ name: 'requests', lock: 'retention', schedule: cfg.requests.schedule, run: requests });
  if (cfg.retention.enabled) {
    const run = retentionJob({
      layout: l,
      streams: Object.fromEntries(Object.entries(cfg.retention.streams).map(([k, v]) => [k, parseDuration(v)])),
      archiveDir: cfg.retention.archive_dir || undefined,
      frameCap: cfg.limits.max_frame_bytes,
      now: Date.now,
      openSegment: () => store.segment?.n,
      holds: () => holds().then((r) => r.active),
      seal,
      maxTotalBytes: cfg.retention.max_total_bytes,
      overBudget: (reason) => status.setHealth('retention', reason ? 'degraded' : 'ok', reason),
      log,
    });
    jobs.add({ name: 'retention', lock: 'retention', schedule: cfg.retention.schedule, run });
  }
  if (cfg.integrity.enabled) {
    // The ring, and a new key a rotation may already sign with before it is in the ring.
    const keys = async () => {
      const pending = await pendingRotation(l).catch(() => undefined);
      return [...(await loadRing(l)), ...(pending ? [pending.newKey] : [])];
    };
    const sweep = integritySweep({ layout: l, keys, origin: cfg.origin, frameCap: cfg.limits.max_frame_bytes, sampleSegments: cfg.integrity.sample_segments, openSegment: () => store.segment?.n, seal, status, log });
    jobs.add({ name: 'integrity', lock: 'integrity', schedule: cfg.integrity.schedule, run: (signal) => sweep('incremental', signal) });
    jobs.add({ name: 'integrity-full', lock: 'integrity', schedule: cfg.integrity.full_schedule, run: (signal) => sweep('full', signal) });
  }
  return jobs;
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

/**
 * A directory sealog may not write to (another owner, a read-only mode or mount) is an
 * operator's mistake, not a crash: say which path, who owns it and who sealog runs as.
 */
async function explainAccess(err: unknown): Promise<unknown> {
  const e = err as NodeJS.ErrnoException & { address?: string };
  const path = e.path ?? e.address; // a socket that cannot be created names its path as `address`
  if (!path || !(e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS')) return err;
  if (e.code === 'EROFS') return new SealogError(ErrorCode.DATA_ACCESS, `cannot write ${path}: it is on a read-only filesystem`, { cause: err });
  // The path itself, or (when it cannot be looked at or does not exist yet) the directory that refuses.
  let owner = '';
  for (const p of [path, dirname(path)]) {
    const st = await stat(p).catch(() => undefined);
    if (!st) continue;
    owner = ` (${p === path ? 'it' : p} is owned by uid ${st.uid} gid ${st.gid}, mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`;
    break;
  }
  const me = process.getuid ? `uid ${process.getuid()} gid ${process.getgid!()}` : 'this user';
  return new SealogError(
    ErrorCode.DATA_ACCESS,
    `permission denied: cannot ${e.syscall ?? 'use'} ${path}${owner}; sealog runs as ${me}. Run it as the owner of its data, socket and spool directories, or give that user access.`,
    { cause: err },
  );
}

/**
 * The dedupe window as the log's recent records leave it, so a resend after a crash is
 * still caught. Parsing is what costs: the lines that may hold an id are counted first,
 * and only the last max_entries of them (all the window can keep) are parsed.
 */
async function loadDedupe(cfg: Config, l: Layout, nextSeq: number, onDuplicate: (kind: string) => void, onPartial: (why: string) => void, log: Logger): Promise<Deduper> {
  const started = Date.now();
  const { window_seconds, max_entries } = cfg.dedupe;
  const d = new Deduper({ windowMs: window_seconds * 1000, maxEntries: max_entries, nextSeq, onDuplicate });
  const since = started - window_seconds * 1000;
  const lines = () => recentLines(l, since, cfg.limits.max_frame_bytes, '"event_id"');
  let candidates = 0;
  try {
    for await (const _ of lines()) candidates++;
    let skip = candidates - max_entries;
    for await (const line of lines()) if (skip-- <= 0) d.replay(JSON.parse(line.toString('utf8')) as Parameters<Deduper['replay']>[0]);
  } catch (err) {
    // Damage in an old segment is the integrity sweep's and verify's to report; it must not stop
    // ingest. A window rebuilt short can only let a resend through twice, visibly, never lose one.
    log.error({ err: (err as Error).message, ids: d.entries }, 'dedupe window rebuilt only in part: a segment within it does not decode (run sealog verify)');
    onPartial((err as Error).message);
  }
  log.info({ ids: d.entries, candidates, ms: Date.now() - started }, 'dedupe window rebuilt from the log');
  return d;
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
    { dir: cfg.spool.dir, stabilityMs: cfg.spool.stability_ms, onDone: cfg.spool.on_done, duplicates: cfg.spool.duplicates, maxLineBytes: cfg.socket.max_line_bytes, parallelFiles: cfg.spool.parallel_files, durableThrough },
    ingest,
    progress,
    log,
  );
  await spool.start();
  return spool;
}

/** A running daemon takes over a key `sealog rotate-key` prepared: new key first, then the sealed transition. */
async function applyRotation(l: Layout, store: SegmentStore, seal: SealAudit, log: Logger): Promise<boolean> {
  const rotation = await pendingRotation(l);
  if (!rotation) return false;
  // Switched before the transition is sealed: no checkpoint covering the transition is signed by the old key.
  await store.setSigner(rotation.next);
  const d = transitionRecord(rotation);
  await seal(d.type!, d.event);
  await finishRotation(l, rotation);
  log.info({ publicKey: rotation.newKey }, 'key rotation finished: the new key signs from here on');
  return true;
}

function transitionRecord(r: PendingRotation): Draft {
  return {
    source: { kind: 'sealog' },
    event: { action: 'key.transition', old_key: r.oldKey, new_key: r.newKey, note: r.note },
    redactions: [],
    stream: 'audit',
    level: 'info',
    type: TRANSITION_TYPE,
    system: true,
  };
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

const STAGES = ['parse→seal', 'batch', 'compress', 'rotate'];
const startedAt = Date.now();

/** The daemon's sections of `sealog status`: who it is, what it took in and made durable, where the log stands, what is queued. */
function reportStatus(status: Status, d: { cfg: Config; counts: EventCounts; store: SegmentStore; socket: SocketSource; pipeline: { streams: unknown[] } }): void {
  const iso = (ms: number) => (ms ? new Date(ms).toISOString() : null);
  status.section('daemon', () => ({
    pid: process.pid,
    started: iso(startedAt),
    uptime_s: Math.round((Date.now() - startedAt) / 1000),
    rss_bytes: process.memoryUsage.rss(),
    memory: (({ heapUsed, heapTotal, external, arrayBuffers }) => ({ heap_used: heapUsed, heap_total: heapTotal, external, array_buffers: arrayBuffers }))(process.memoryUsage()),
    origin: d.cfg.origin,
    data_dir: d.cfg.data_dir,
    socket: d.cfg.socket.path,
  }));
  status.section('events', () => d.counts.snapshot());
  status.section('log', () => {
    const p = d.store.progress;
    const seg = d.store.segment;
    return {
      tree_size: d.store.treeSize,
      segment: seg ? { n: seg.n, bytes: seg.bytes, opened: iso(seg.openedAt) } : null,
      last_commit: iso(p.lastCommitAt),
      last_checkpoint: iso(p.lastCheckpointAt),
      checkpoint_size: p.checkpointSize,
    };
  });
  // Items buffered in each pipeline stream against its high-water marks: bounded memory, visible.
  status.section('queues', () =>
    (d.pipeline.streams as Duplex[]).map((s, i) => ({
      stage: d.pipeline.streams.length === STAGES.length ? STAGES[i] : String(i),
      items: (s.writableLength ?? 0) + (s.readableLength ?? 0),
      mark: (s.writableHighWaterMark ?? 0) + (s.readableHighWaterMark ?? 0),
    })),
  );
  status.section('connections', () => ({ open: d.socket.openConnections, total: d.socket.counts.connections, refused: d.socket.counts.refused }));
}
