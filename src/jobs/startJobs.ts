import { retentionFloor } from '../sinks/cursor.js';
import type { Config } from '../config.js';
import { finishRotation, loadRing, pendingRotation, type PendingRotation } from '../crypto/keyFiles.js';
import type { Logger } from '../log.js';
import type { SealAudit } from '../sources/ingest.js';
import type { Status } from '../status.js';
import type { Layout } from '../store/layout.js';
import type { SegmentStore } from '../store/segmentStore.js';
import type { Draft } from '../types.js';
import { TRANSITION_TYPE } from '../verify/frames.js';
import { applyHoldRequests } from './holds.js';
import { integritySweep } from './integrity.js';
import { parseDuration, retentionJob } from './retention.js';
import { Jobs } from './scheduler.js';

/** The cron jobs (DESIGN §1), each on its schedule from config, in UTC. */
export function startJobs(cfg: Config, l: Layout, store: SegmentStore, seal: SealAudit, status: Status, log: Logger): Jobs {
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
      sinkFloor: () => retentionFloor(l.data, cfg.sinks.filter((s) => s.hold_retention).map((s) => s.name)),
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

export function transitionRecord(r: PendingRotation): Draft {
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

