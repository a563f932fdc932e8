import type { Duplex } from 'node:stream';
import type { Config } from './config.js';
import type { EventCounts } from './eventCounts.js';
import type { SocketSource } from './sources/socket.js';
import type { FrontStage } from './front/stage.js';
import type { Status } from './status.js';
import type { SegmentStore } from './store/segmentStore.js';

/** The pipeline's streams: stream-chain fuses the plain functions between the front and batch into one. */
const STAGES = ['front (worker)', 'seal', 'batch', 'compress', 'rotate'];
/** The daemon's sections of `sealog status`: who it is, what it took in and made durable, where the log stands, what is queued. */
export function reportStatus(
  status: Status,
  d: { cfg: Config; counts: EventCounts; store: SegmentStore; socket: SocketSource; pipeline: { streams: unknown[] }; dedupe: boolean },
): void {
  const startedAt = Date.now();
  const iso = (ms: number) => (ms ? new Date(ms).toISOString() : null);
  status.section('daemon', () => ({
    pid: process.pid,
    started: iso(startedAt),
    uptime_s: Math.round((Date.now() - startedAt) / 1000),
    rss_bytes: process.memoryUsage.rss(),
    memory: (({ heapUsed, heapTotal, external, arrayBuffers }) => ({ heap_used: heapUsed, heap_total: heapTotal, external, array_buffers: arrayBuffers }))(
      process.memoryUsage(),
    ),
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
  const names = STAGES.map((n) => (n === 'seal' && d.dedupe ? 'dedupe→seal' : n));
  status.section('queues', () => queueDepths(d.pipeline.streams).map((q, i) => ({ stage: names[i] ?? String(i), ...q })));
  status.section('connections', () => ({ open: d.socket.openConnections, total: d.socket.counts.connections, refused: d.socket.counts.refused }));
}

/** Items buffered in each of the pipeline's streams, and the mark each stays within. */
export function queueDepths(streams: unknown[]): { items: number; mark: number }[] {
  return (streams as (Duplex & Partial<FrontStage>)[]).map((s) => ({
    // The front also counts the lines at its worker.
    items: s.items ?? (s.writableLength ?? 0) + (s.readableLength ?? 0),
    // A transform stops taking input only once its output is at the mark: one item may be past it.
    mark: s.mark ?? (s.writableHighWaterMark ?? 0) + (s.readableHighWaterMark ?? 0) + 1,
  }));
}
