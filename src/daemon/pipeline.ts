import type { Duplex, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import chain, { asStream, gen } from 'stream-chain';
import { deliverAcks } from '../acks.js';
import { createClock } from '../clock.js';
import type { Config } from '../config.js';
import { finishRotation, loadHmacKey, loadRing, type PendingRotation } from '../crypto/keyFiles.js';
import type { Signer } from '../crypto/keys.js';
import { EventCounts } from '../eventCounts.js';
import { FrontStage } from '../front/stage.js';
import type { Logger } from '../log.js';
import { keyTransitionEvent, OwnType, tornTailEvent } from '../ownRecords.js';
import type { Prepare } from '../service/reload.js';
import { Ingest } from '../sources/ingest.js';
import { batchStage, type BatchLimits } from '../stages/batch.js';
import { COMPRESSOR, compressStage } from '../stages/compress.js';
import { loadDedupe, type Deduper } from '../stages/dedupe.js';
import { rotateSink } from '../stages/rotate.js';
import { createSealer, Slabs } from '../stages/seal.js';
import type { Status } from '../status.js';
import type { Layout } from '../store/layout.js';
import { recover, type TornTail } from '../store/recovery.js';
import { SegmentStore, type StoreOptions } from '../store/segmentStore.js';
import type { JsonObject, Packed, Sealed } from '../types.js';

/** The write path, built and running, with no input yet. */
export interface Pipeline {
  /** The pipeline as one stream: input goes in through `ingest`. */
  stream: ReturnType<typeof chain>;
  front: FrontStage;
  store: SegmentStore;
  /** The pipeline's entrance for every source, and `ingest.audit` for sealog's own records. */
  ingest: Ingest;
  counts: EventCounts;
  dedupe: Deduper | undefined;
  /** What recovery cut off at start: sealed by sealStartRecords before any input. */
  torn: TornTail[];
  /** Resolves when the pipeline has ended (after ingest.end()), rejects on a fatal error such as a failed fsync. */
  done: Promise<void>;
  /** Calls `listener` after each commit (records durable, acks sent): e.g. to wake a reader of the log. It may not keep the records' lines. */
  onCommit(listener: (records: Sealed[]) => void): void;
  /** SIGHUP: builds the live settings of `next` (throws on a bad one), returns the swap. */
  reload: Prepare;
}

/**
 * Builds the write path: front (workers) → dedupe → seal → batch → compress → rotate, the
 * store under it continuing the chain where recovery left it. `signer` signs from the
 * first checkpoint on (a pending rotation's new key).
 */
export async function buildPipeline(
  cfg: Config,
  l: Layout,
  signer: Signer,
  rotation: PendingRotation | undefined,
  status: Status,
  log: Logger,
  observe?: StoreOptions['observe'],
): Promise<Pipeline> {
  const front = await startFront(cfg, l);
  log.info({ workers: front.workers.length, setting: cfg.front.workers }, 'front worker threads ready');
  if (COMPRESSOR.why) log.info({ reason: COMPRESSOR.why }, 'compressing with lz4-napi instead of liblz4: ~50 MiB more memory under load');
  try {
    const counts = new EventCounts();
    const recovered = await recover(
      l,
      cfg.origin,
      signer,
      [...(await loadRing(l)).keys, ...(rotation ? [rotation.oldKey] : [])],
      cfg.limits.max_frame_bytes,
      log,
    );
    let dedupe: Deduper | undefined;
    const listeners: ((records: Sealed[]) => void)[] = [];
    const slabs = new Slabs();
    const onCommit = (records: Sealed[]) => {
      const last = records[records.length - 1]!.seq;
      counts.durable(records);
      deliverAcks(records);
      dedupe?.committed(last);
      for (const listener of listeners) listener(records);
      slabs.committed(last); // last: the records' lines are written over from here on
    };
    const store = new SegmentStore(
      {
        layout: l,
        origin: cfg.origin,
        signer,
        fsync: { mode: cfg.fsync.mode, intervalMs: cfg.fsync.interval_ms },
        checkpoint: { everyRecords: cfg.checkpoint.every_records, everyMs: cfg.checkpoint.every_seconds * 1000 },
        log,
        onCommit,
        observe,
        onDiskFull: (problem) => status.setHealth('disk', problem ? 'unhealthy' : 'ok', problem ? `${problem}: input paused until space returns` : ''),
      },
      recovered.state,
      recovered.lastCheckpointSize,
    );
    const seal = createSealer({ nextSeq: recovered.state.tree.size, prev: recovered.state.lastHash }, createClock(), slabs);
    if (cfg.dedupe.enabled) {
      dedupe = await loadDedupe(
        cfg,
        l,
        store.treeSize,
        (kind) => counts.duplicate(kind),
        (why) => status.setHealth('dedupe', 'degraded', `window rebuilt only in part at start: ${why}`),
        log,
      );
      const d = dedupe;
      status.section('dedupe', () => ({ entries: d.entries, ...d.counts }));
    }
    const sink = rotateSink(store, { maxBytes: cfg.segment.max_bytes, maxAgeMs: cfg.segment.max_age_seconds * 1000 });
    // Reload changes these in place: the batcher reads its limits object at each record.
    const batchLimits: BatchLimits = { maxRecords: cfg.batch.max_records, maxBytes: cfg.batch.max_bytes, lingerMs: cfg.batch.linger_ms };
    const stream = assemble({ front, dedupe, seal, batchLimits, sink }, cfg.limits.queue_items);
    const done = Promise.all([finished(sink), finished(stream, { readable: false })]).then(() => {});
    done.catch(() => {}); // observed by the caller through `done`
    const reload: Prepare = (next) => {
      // Builds first (a bad rule or schema refuses the reload); the swap cannot fail.
      const swapFront = front.reload(next, (error) =>
        log.error({ error }, 'configuration reload: the front worker could not take the new rules and keeps the old ones; restart sealog'),
      );
      return () => {
        swapFront();
        Object.assign(batchLimits, { maxRecords: next.batch.max_records, maxBytes: next.batch.max_bytes, lingerMs: next.batch.linger_ms });
        log.level = next.log.level;
      };
    };
    const ingest = new Ingest(stream, counts);
    return { stream, front, store, ingest, counts, dedupe, torn: recovered.torn, done, onCommit: (listener) => listeners.push(listener), reload };
  } catch (err) {
    front.destroy();
    throw err;
  }
}

/** The stages in the order records take them, as one backpressured stream; `queueItems` is the mark at its entrance. */
export function assemble(
  s: { front: Duplex; dedupe?: Deduper; seal: (p: Packed) => Sealed; batchLimits: BatchLimits; sink: Writable },
  queueItems: number,
): ReturnType<typeof chain> {
  // The whole flow, in one place. From the front to batch, records go a chunk (an array) at a time.
  // A frame waiting at the sink behind the one being written: the next batch grows instead of queueing.
  const backlogged = () => s.sink.writableLength > 1;
  const seal = (chunk: Packed[]): Sealed[] => chunk.map((p) => s.seal(p));
  // dedupe and seal as one stream (stream-chain fuses functions), holding a chunk on each side.
  const sealing = asStream(s.dedupe ? gen(s.dedupe.stage, seal) : seal, { writableHighWaterMark: 1, readableHighWaterMark: 1 });
  return chain([s.front, sealing, batchStage(s.batchLimits, backlogged), compressStage(), s.sink], {
    writableHighWaterMark: queueItems,
  });
}

/**
 * The front, its workers ready (`front.workers`). Refuses a missing or malformed keys/hmac.key; the key goes
 * into the pseudonymizer only (here and in each worker), never to a log. Every pattern,
 * field rule and schema is compiled there, once.
 */
async function startFront(cfg: Config, l: Layout): Promise<FrontStage> {
  const hmacKey = await loadHmacKey(l);
  let front: FrontStage;
  try {
    front = new FrontStage(cfg, hmacKey);
  } finally {
    hmacKey.fill(0);
  }
  try {
    await front.ready;
  } catch (err) {
    front.destroy();
    throw err;
  }
  return front;
}

/**
 * sealog's own records from start-up (a cut torn tail, a failed start check, a key transition),
 * committed before any input, through the same path as every own record; then a pending
 * rotation is finished.
 */
export async function sealStartRecords(
  p: Pipeline,
  cfg: Config,
  l: Layout,
  rotation: PendingRotation | undefined,
  log: Logger,
  failedCheck?: JsonObject,
): Promise<void> {
  const ended = p.done.then(() => Promise.reject(new Error('the pipeline ended at start')));
  ended.catch(() => {}); // only raced against below; the daemon observes p.done itself
  const sealNow = (seal: Promise<number>) => Promise.race([seal, ended]);
  for (const t of p.torn) await sealNow(p.ingest.audit(OwnType.RECOVERY, tornTailEvent(t), 'warn'));
  if (failedCheck) await sealNow(p.ingest.audit(OwnType.INTEGRITY_SWEEP, failedCheck, 'error'));
  if (rotation) {
    const seq = await sealNow(p.ingest.audit(OwnType.KEY_TRANSITION, keyTransitionEvent(rotation)));
    await finishRotation(l, rotation, cfg.origin, seq);
    log.info({ publicKey: rotation.newKey }, 'key rotation finished: the new key signs from here on');
  }
}
