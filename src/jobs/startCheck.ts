import type { Config } from '../config.js';
import { loadRing } from '../crypto/keyFiles.js';
import type { KeyRing } from '../crypto/keyRing.js';
import { ErrorCode, SealogError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Status } from '../status.js';
import type { Layout } from '../store/layout.js';
import type { JsonObject } from '../types.js';
import type { Finding } from '../verify/verifier.js';
import { closedSegments, describeFinding, loadState, runVerifier, writeState } from './integrity.js';

export interface StartCheck {
  ok: boolean;
  /** The closed segments verified (the newest, and those no sweep had passed). */
  segments: number[];
  records: number;
  ms: number;
  failure?: Finding;
}

/**
 * Before the daemon appends anything: the newest closed segment and, when sweeps run,
 * every closed segment no sweep has passed yet are verified (the checks of sealog
 * verify, in the sweep's worker) against their signed manifests and the checkpoints
 * they cover; the others are crossed through their signed manifests. What a crash
 * left open is recovery's (recover() also holds the log to its newest checkpoint).
 */
export async function checkAtStart(o: { layout: Layout; ring: KeyRing; origin: string; frameCap: number; unswept: boolean }): Promise<StartCheck | undefined> {
  const started = Date.now();
  const closed = await closedSegments(o.layout);
  if (!closed.length) return undefined;
  const newest = closed[closed.length - 1]!;
  const swept = o.unswept ? (await loadState(o.layout)).through_segment : newest;
  const check = closed.filter((n) => n === newest || n > swept);
  const outcome = await runVerifier({ data: o.layout.data, ring: o.ring, origin: o.origin, frameCap: o.frameCap, check, throughSegment: newest });
  if ('error' in outcome) throw new Error(`the start check could not run: ${outcome.error}`);
  const v = outcome.verdict;
  // Passed: these count as swept, like an incremental sweep's segments.
  if (v.ok && o.unswept && newest > swept) await writeState(o.layout, { ...(await loadState(o.layout)), through_segment: newest });
  return { ok: v.ok, segments: check, records: v.records, ms: Date.now() - started, ...(v.failure && { failure: v.failure }) };
}

/**
 * The daemon's start: the check above under the daemon's key ring (and a rotation's new key,
 * which may have signed already). A failure refuses the start (E_LOG_DAMAGED), or with
 * integrity.at_start: unhealthy, starts with integrity unhealthy and the finding logged.
 */
export async function checkLogAtStart(cfg: Config, l: Layout, pendingKey: string | undefined, status: Status, log: Logger): Promise<StartCheck | undefined> {
  const ring = await loadRing(l);
  const c = await checkAtStart({
    layout: l,
    ring: { ...ring, keys: [...ring.keys, ...(pendingKey ? [pendingKey] : [])] },
    origin: cfg.origin,
    frameCap: cfg.limits.max_frame_bytes,
    unswept: cfg.integrity.enabled,
  });
  if (!c) return undefined;
  if (!c.failure) {
    log.info({ segments: c.segments, records: c.records, ms: c.ms }, 'start check passed: the newest and every unswept closed segment verify');
    return c;
  }
  const finding = describeFinding(c.failure);
  if (cfg.integrity.at_start === 'refuse') {
    throw new SealogError(
      ErrorCode.LOG_DAMAGED,
      `refusing to append to a log that fails verification: ${finding}; run sealog verify (integrity.at_start: unhealthy starts anyway)`,
    );
  }
  status.setHealth('integrity', 'unhealthy', `at start: ${finding}`);
  log.error({ finding: c.failure }, `the log fails verification at start: ${finding}`);
  return c;
}

/** A failed start check (integrity.at_start: unhealthy), sealed like a failed sweep; a passing one is only logged. */
export function startCheckEvent(c: StartCheck): JsonObject {
  return {
    action: 'integrity.sweep',
    mode: 'start',
    ok: c.ok,
    segments_checked: c.segments.length,
    first_segment: c.segments[0] ?? null,
    last_segment: c.segments[c.segments.length - 1] ?? null,
    records: c.records,
    ms: c.ms,
    ...(c.failure && { failure: { ...c.failure } }),
  };
}
