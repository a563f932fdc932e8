import { retentionFloor } from '../sinks/cursor.js';
import type { Config } from '../config.js';
import { finishRotation, loadRing, pendingRotation } from '../crypto/keyFiles.js';
import type { Logger } from '../log.js';
import { keyTransitionEvent, OwnType, type SealOwn } from '../ownRecords.js';
import type { Status } from '../status.js';
import type { Layout } from '../store/layout.js';
import type { SegmentStore } from '../store/segmentStore.js';
import { applyHoldRequests, type RequestOutcome } from './holds.js';
import type { ControlServer } from '../control.js';
import { integritySweep } from './integrity.js';
import { parseDuration, retentionJob } from './retention.js';
import { Jobs } from './scheduler.js';

/** The cron jobs (DESIGN §1), each on its schedule from config, in UTC. */
export function startJobs(cfg: Config, l: Layout, store: SegmentStore, seal: SealOwn, status: Status, log: Logger, control: ControlServer): Jobs {
  const jobs = new Jobs(log, status);
  // What the CLI asks of a running daemon: hold, release, rotate-key. Shares retention's lock:
  // a hold request is sealed and applied before any removal that would ignore it.
  // Recent verdicts by request file, for the CLI that waits on its request (control command 'requests').
  const outcomes = new Map<string, RequestOutcome>();
  const holds = async () => {
    const r = await applyHoldRequests(l, seal, log);
    for (const o of r.outcomes) outcomes.set(o.request, o);
    for (const k of outcomes.keys()) if (outcomes.size > 256) outcomes.delete(k);
    return r;
  };
  const requests = async () => {
    const h = await holds();
    const rotated = await applyRotation(l, cfg.origin, store, seal, log);
    return { placed: h.placed, released: h.released, active: h.active.length, rotated };
  };
  jobs.add({ name: 'requests', lock: 'retention', schedule: cfg.requests.schedule, run: requests });
  control.handle('requests', async (req) => {
    const file = typeof req.request === 'string' ? req.request : '';
    // A run in progress may have listed the requests before this one came: wait it out, run again
    // (a few times at most: a stopping daemon runs nothing).
    for (let i = 0; i < 5 && !outcomes.has(file); i++) {
      await jobs.idle('requests');
      await jobs.runNow('requests');
    }
    const o = outcomes.get(file);
    return o ?? { error: `request ${JSON.stringify(req.request)} was not found among the requests the daemon applied` };
  });
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
      sinkFloor: () =>
        retentionFloor(
          l.data,
          cfg.sinks.filter((s) => s.hold_retention).map((s) => s.name),
        ),
      log,
    });
    jobs.add({ name: 'retention', lock: 'retention', schedule: cfg.retention.schedule, run });
  }
  if (cfg.integrity.enabled) {
    // The ring, and a new key a rotation may already sign with before it is in the ring.
    const ring = async () => {
      const pending = await pendingRotation(l).catch(() => undefined);
      const r = await loadRing(l);
      return { ...r, keys: [...r.keys, ...(pending ? [pending.newKey] : [])] };
    };
    const sweep = integritySweep({
      layout: l,
      ring,
      origin: cfg.origin,
      frameCap: cfg.limits.max_frame_bytes,
      sampleSegments: cfg.integrity.sample_segments,
      openSegment: () => store.segment?.n,
      seal,
      status,
      log,
    });
    jobs.add({ name: 'integrity', lock: 'integrity', schedule: cfg.integrity.schedule, run: (signal) => sweep('incremental', signal) });
    jobs.add({ name: 'integrity-full', lock: 'integrity', schedule: cfg.integrity.full_schedule, run: (signal) => sweep('full', signal) });
  }
  return jobs;
}

/** A running daemon takes over a key `sealog rotate-key` prepared: new key first, then the sealed transition. */
async function applyRotation(l: Layout, origin: string, store: SegmentStore, seal: SealOwn, log: Logger): Promise<boolean> {
  const rotation = await pendingRotation(l);
  if (!rotation) return false;
  // Switched before the transition is sealed: no checkpoint covering the transition is signed by the old key.
  await store.setSigner(rotation.next);
  const seq = await seal(OwnType.KEY_TRANSITION, keyTransitionEvent(rotation));
  await finishRotation(l, rotation, origin, seq);
  log.info({ publicKey: rotation.newKey }, 'key rotation finished: the new key signs from here on');
  return true;
}
