import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EventCounts } from '../eventCounts.js';
import type { Status } from '../status.js';

/** What the scrape reads; nothing in the hot path writes to prom-client except the two store timings. */
export interface MetricsSource {
  counts: EventCounts;
  status: Status;
  treeSize(): number;
  progress(): { lastCommitAt: number; lastCheckpointAt: number; checkpointSize: number };
  segment(): { n: number; bytes: number } | undefined;
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** The last commit latencies kept for the dashboard's p99 chart: one entry per committed frame, not per event. */
const RECENT = 2048;

/**
 * sealog's Prometheus metrics (names `sealog_*`). Counters and gauges are read at
 * scrape time from EventCounts and the status registry (the figures `sealog
 * status` shows), so the pipeline pays nothing for them; the commit-latency and
 * fsync histograms are fed by the store's `observe` hook: commit latency once per frame,
 * fsync once per sync (frames that waited for one share the next).
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly commitHist: Histogram;
  private readonly fsyncHist: Histogram;
  private readonly recent = new Float64Array(RECENT);
  private recentAt = 0;
  private recentN = 0;
  private source: MetricsSource | undefined;
  readonly httpRequests: Counter<'route' | 'status'>;

  constructor() {
    const registers = [this.registry];
    this.commitHist = new Histogram({
      name: 'sealog_commit_latency_seconds',
      help: 'Time from a frame reaching the store to its records being durable (write, fsync per policy)',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.fsyncHist = new Histogram({
      name: 'sealog_fsync_seconds',
      help: 'Duration of each sync of the open segment: the durable (O_DSYNC) write of fsync.mode batch, the datasync of interval',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.httpRequests = new Counter({
      name: 'sealog_http_requests_total',
      help: 'HTTP API requests answered, by route pattern and status code',
      labelNames: ['route', 'status'],
      registers,
    });
  }

  /** The store's hook. */
  readonly observe = {
    fsync: (s: number) => this.fsyncHist.observe(s),
    commit: (s: number) => {
      this.commitHist.observe(s);
      this.recent[this.recentAt] = s;
      this.recentAt = (this.recentAt + 1) % RECENT;
      if (this.recentN < RECENT) this.recentN++;
    },
  };

  /** p99 of the recent commit latencies, in seconds (null before the first commit). */
  commitP99(): number | null {
    if (!this.recentN) return null;
    const xs = Array.from(this.recent.subarray(0, this.recentN)).sort((a, b) => a - b);
    return xs[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))]!;
  }

  /** Registers the scrape-time figures once the daemon's parts exist. */
  attach(src: MetricsSource): void {
    if (this.source) throw new Error('metrics already attached');
    this.source = src;
    const registers = [this.registry];
    const bySource = (name: string, help: string, pick: (c: ReturnType<EventCounts['snapshot']>[string]) => number) =>
      new Counter({
        name,
        help,
        labelNames: ['source'],
        registers,
        collect() {
          this.reset();
          for (const [source, c] of Object.entries(src.counts.snapshot())) this.inc({ source }, pick(c));
        },
      });
    bySource('sealog_events_in_total', 'Events taken in, by source kind', (c) => c.in);
    bySource('sealog_events_committed_total', 'Events made durable as records, by source kind', (c) => c.committed);
    bySource('sealog_events_rejected_total', 'Inputs made durable as dead-letter records, by source kind', (c) => c.rejected);
    bySource('sealog_events_duplicates_total', 'Resends of an already committed event_id (dedupe), by source kind', (c) => c.duplicates);
    new Counter({
      name: 'sealog_rejected_total',
      help: 'Dead-letter records by reject code',
      labelNames: ['code'],
      registers,
      collect() {
        this.reset();
        for (const [code, n] of Object.entries(src.counts.rejectedByCode())) this.inc({ code }, n);
      },
    });
    const gauge = (name: string, help: string, read: () => number | null | undefined) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const v = read();
          if (v === null || v === undefined) this.reset();
          else this.set(v);
        },
      });
    gauge('sealog_tree_size', 'Records in the log (the Merkle tree size)', () => src.treeSize());
    gauge('sealog_checkpoint_size', 'Tree size of the newest checkpoint', () => src.progress().checkpointSize);
    gauge('sealog_checkpoint_age_seconds', 'Seconds since the newest checkpoint was written in this run', () => {
      const at = src.progress().lastCheckpointAt;
      return at ? (Date.now() - at) / 1000 : null;
    });
    gauge('sealog_last_commit_timestamp_seconds', 'When records last became durable (Unix time)', () => src.progress().lastCommitAt / 1000 || null);
    gauge('sealog_segment_open_bytes', 'Bytes in the open segment', () => src.segment()?.bytes ?? 0);
    gauge('sealog_segment_open_number', 'Number of the open segment', () => src.segment()?.n);
    new Gauge({
      name: 'sealog_health',
      help: 'Health: 0 ok, 1 degraded, 2 unhealthy',
      registers,
      collect() {
        this.set({ ok: 0, degraded: 1, unhealthy: 2 }[src.status.health().level]);
      },
    });
    new Gauge({
      name: 'sealog_queue_items',
      help: 'Items buffered in each pipeline stage',
      labelNames: ['stage'],
      registers,
      collect() {
        this.reset();
        for (const q of section<{ stage: string; items: number }[]>(src.status, 'queues') ?? []) this.set({ stage: q.stage }, q.items);
      },
    });
    new Gauge({
      name: 'sealog_queue_mark',
      help: 'High-water mark of each pipeline stage',
      labelNames: ['stage'],
      registers,
      collect() {
        this.reset();
        for (const q of section<{ stage: string; mark: number }[]>(src.status, 'queues') ?? []) this.set({ stage: q.stage }, q.mark);
      },
    });
    new Gauge({
      name: 'sealog_integrity_sweep',
      help: 'The last integrity sweep: ok (1/0), records and segments read, duration, and when it ran',
      labelNames: ['figure'],
      registers,
      collect() {
        this.reset();
        const s = section<{ ok: boolean; records: number; segments: number; ms: number }>(src.status, 'integrity');
        if (!s) return;
        this.set({ figure: 'ok' }, s.ok ? 1 : 0);
        this.set({ figure: 'records' }, s.records);
        this.set({ figure: 'segments' }, s.segments);
        this.set({ figure: 'seconds' }, s.ms / 1000);
      },
    });
    for (const [figure, unit] of [
      ['lag_records', 'records'],
      ['lag_seconds', 'seconds'],
    ] as const) {
      new Gauge({
        name: `sealog_sink_lag_${unit}`,
        help: `How far each sink is behind the committed log, in ${unit}`,
        labelNames: ['sink'],
        registers,
        collect() {
          this.reset();
          for (const [sink, r] of Object.entries(section<Record<string, Record<string, unknown>>>(src.status, 'sinks') ?? {})) {
            const v = r?.[figure];
            if (typeof v === 'number') this.set({ sink }, v);
          }
        },
      });
    }
    const bySink = (read: (r: Record<string, unknown>) => unknown, set: (sink: string, v: number) => void) => {
      for (const [sink, r] of Object.entries(section<Record<string, Record<string, unknown>>>(src.status, 'sinks') ?? {})) {
        const v = r && read(r);
        if (typeof v === 'number') set(sink, v);
      }
    };
    new Gauge({
      name: 'sealog_sink_cursor',
      help: 'The last seq each sink had acknowledged (its durable cursor; -1 before the first)',
      labelNames: ['sink'],
      registers,
      collect() {
        this.reset();
        bySink(
          (r) => r.cursor,
          (sink, v) => this.set({ sink }, v),
        );
      },
    });
    new Counter({
      name: 'sealog_sink_delivery_failures_total',
      help: 'Batches each sink failed to deliver since the daemon started (each retried with backoff; the last error is in status)',
      labelNames: ['sink'],
      registers,
      collect() {
        this.reset();
        bySink(
          (r) => r.failures,
          (sink, v) => this.inc({ sink }, v),
        );
      },
    });
    gauge('sealog_connections_open', 'Open socket connections', () => section<{ open: number }>(src.status, 'connections')?.open);
    gauge('sealog_rss_bytes', 'Resident memory of the daemon', () => process.memoryUsage.rss());
  }

  async scrape(): Promise<string> {
    return this.registry.metrics();
  }
}

/** One section of the status report, computed alone (not the whole report per gauge). */
function section<T>(status: Status, name: string): T | undefined {
  return status.read(name) as T | undefined;
}
