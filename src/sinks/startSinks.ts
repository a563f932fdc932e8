import type { Config } from '../config.js';
import { loadRing } from '../crypto/keyFiles.js';
import { parseVerifierKey } from '../crypto/keys.js';
import type { Logger } from '../log.js';
import type { Status } from '../status.js';
import type { Layout } from '../store/layout.js';
import { cursorPath } from './cursor.js';
import { JetStreamSink } from './jetstream.js';
import { LogTail } from './logTail.js';
import { PostgresSink } from './postgres.js';
import { SinkRunner } from './runner.js';
import type { Sink } from './sink.js';

export interface Sinks {
  /** Records were committed: sinks that are idle look now. */
  wake(): void;
  /** The lowest seq acknowledged by the sinks that hold retention (Infinity when none does). */
  floor(): number;
  stop(): Promise<void>;
}

/** Starts the configured sinks (after the store has recovered); each runs beside the pipeline. */
export async function startSinks(cfg: Config, l: Layout, committedThrough: () => number, status: Status, log: Logger): Promise<Sinks> {
  const runners: { name: string; runner: SinkRunner; holds: boolean }[] = [];
  for (const s of cfg.sinks) {
    let sink: Sink;
    if (s.type === 'jetstream') {
      sink = new JetStreamSink({
        url: s.url,
        stream: s.stream,
        subjectRoot: s.subject_root,
        origin: cfg.origin,
        duplicateWindowMs: s.duplicate_window_seconds * 1000,
        maxInFlight: s.max_in_flight,
        log,
      });
    } else {
      sink = new PostgresSink({ url: s.url, origin: cfg.origin, keys: (await loadRing(l)).keys.map(parseVerifierKey), log });
    }
    const runner = new SinkRunner({
      name: s.name,
      sink,
      tail: new LogTail(l.data, cfg.limits.max_frame_bytes),
      cursorFile: cursorPath(l.data, s.name),
      committedThrough,
      batchRecords: s.batch_records,
      maxLagRecords: s.max_lag_records,
      maxLagSeconds: s.max_lag_seconds,
      status,
      log,
    });
    await runner.start();
    runners.push({ name: s.name, runner, holds: s.hold_retention });
    log.info({ sink: s.name, type: s.type, cursor: runner.acknowledged }, 'sink started');
  }
  if (runners.length) status.section('sinks', () => Object.fromEntries(runners.map((r) => [r.name, r.runner.report()])));
  return {
    wake: () => runners.forEach((r) => r.runner.wake()),
    floor: () => Math.min(Infinity, ...runners.filter((r) => r.holds).map((r) => r.runner.acknowledged)),
    stop: async () => {
      await Promise.all(runners.map((r) => r.runner.stop()));
    },
  };
}
