import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
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
import { Deduper } from './stages/dedupe.js';
import { compress, compressStage } from './stages/compress.js';
import { parse } from './stages/parse.js';
import { createRedactor } from './redact/redactor.js';
import { rotateSink } from './stages/rotate.js';
import { createSanitizer } from './stages/sanitize.js';
import { createSealer } from './stages/seal.js';
import { layout, type Layout } from './store/layout.js';
import { acquireLock } from './store/lock.js';
import { recover, type TornTail } from './store/recovery.js';
import { recentLines, recordsFrom } from './store/scan.js';
import { SegmentStore } from './store/segmentStore.js';
import { Status } from './status.js';
import { ErrorCode, SealogError } from './errors.js';
import type { Draft } from './types.js';

export interface Daemon {
  /** Stop accepting, drain and commit everything accepted, final checkpoint. */
  stop(): Promise<void>;
  /** Resolves when the pipeline ends (after stop), rejects on a fatal error such as a failed fsync. */
  done: Promise<void>;
  /** Health and live figures, for `sealog status`, systemd and the jobs. */
  status: Status;
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
    const signer = await loadSigner(l);
    // Refuses a missing or malformed keys/hmac.key; the key goes into the pseudonymizer only, never to a log.
    // Every pattern and field rule is compiled here, once.
    const hmacKey = await loadHmacKey(l);
    const redactor = cfg.redact.enabled ? createRedactor(cfg.redact, createPseudonymizer(hmacKey)) : undefined;
    hmacKey.fill(0);
    const recovered = await recover(l, cfg.origin, signer, cfg.limits.max_frame_bytes, log);
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
          deliverAcks(records);
          dedupe?.committed(records[records.length - 1]!.seq);
        },
      },
      recovered.state,
      recovered.lastCheckpointSize,
    );
    const seal = createSealer({ nextSeq: recovered.state.tree.size, prev: recovered.state.lastHash }, createClock());
    const sanitize = createSanitizer({ maxDepth: cfg.sanitize.max_depth, maxStringChars: cfg.sanitize.max_string_chars, maxItems: cfg.sanitize.max_items }, redactor);

    // The daemon's own audit records (a cut torn tail) are sealed and committed before any input.
    for (const t of recovered.torn) {
      const s = seal(tornRecord(t));
      await store.append(await compress({ records: [s], bytes: s.line.length }));
    }

    if (cfg.dedupe.enabled) {
      dedupe = await loadDedupe(cfg, l, store.treeSize, log);
      const d = dedupe;
      status.section('dedupe', () => ({ entries: d.entries, ...d.counts }));
    }
    const sink = rotateSink(store, { maxBytes: cfg.segment.max_bytes, maxAgeMs: cfg.segment.max_age_seconds * 1000 });
    const classify = createClassifier({ rules: cfg.classify.rules, schemas: loadSchemas(cfg.classify.schemas_dir) });
    const pipeline = chain([parse, sanitize, classify, ...(dedupe ? [dedupe.stage] : []), seal, batchStage({ maxRecords: cfg.batch.max_records, maxBytes: cfg.batch.max_bytes, lingerMs: cfg.batch.linger_ms }), compressStage(), sink], {
      writableHighWaterMark: cfg.limits.queue_items,
    });
    const ingest = new Ingest(pipeline);
    const socket = new SocketSource(
      { path: cfg.socket.path, mode: parseInt(cfg.socket.mode, 8), maxLineBytes: cfg.socket.max_line_bytes, ackBufferBytes: cfg.socket.ack_buffer_bytes, maxConnections: cfg.socket.max_connections },
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
    log.info({ socket: cfg.socket.path, data: cfg.data_dir, origin: cfg.origin, nextSeq: recovered.state.tree.size }, 'sealog ready');

    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
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
    return { stop, done, status };
  } catch (err) {
    await releaseLock();
    throw err;
  }
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
async function loadDedupe(cfg: Config, l: Layout, nextSeq: number, log: Logger): Promise<Deduper> {
  const started = Date.now();
  const { window_seconds, max_entries } = cfg.dedupe;
  const d = new Deduper({ windowMs: window_seconds * 1000, maxEntries: max_entries, nextSeq });
  const since = started - window_seconds * 1000;
  const lines = () => recentLines(l, since, cfg.limits.max_frame_bytes, '"event_id"');
  let candidates = 0;
  for await (const _ of lines()) candidates++;
  let skip = candidates - max_entries;
  for await (const line of lines()) if (skip-- <= 0) d.replay(JSON.parse(line.toString('utf8')) as Parameters<Deduper['replay']>[0]);
  log.info({ ids: d.entries, candidates, ms: Date.now() - started }, 'dedupe window rebuilt from the log');
  return d;
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
