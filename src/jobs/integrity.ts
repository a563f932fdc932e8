import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { KeyRing } from '../crypto/keyRing.js';
import type { Logger } from '../log.js';
import { OwnType, type SealOwn } from '../ownRecords.js';
import type { Status } from '../status.js';
import { writeFileDurable } from '../store/fsutil.js';
import { listSegments, manifestName, type Layout } from '../store/layout.js';
import type { Finding, Verdict } from '../verify/verifier.js';
import type { VerifyRequest } from './verifyWorker.js';

export interface IntegrityOptions {
  layout: Layout;
  /** The key ring the sweep trusts (the daemon's own public key, any it rotated from, their retirements). */
  ring(): Promise<KeyRing>;
  origin: string;
  frameCap: number;
  /** Old segments re-read by each incremental sweep, in rotation. */
  sampleSegments: number;
  openSegment(): number | undefined;
  seal: SealOwn;
  status: Status;
  log: Logger;
}

export interface SweepState {
  /** Every closed segment up to here passed an incremental or full sweep. */
  through_segment: number;
  /** Where the rotating sample of old segments goes on. */
  sample_cursor: number;
}

export interface SweepResult {
  mode: 'incremental' | 'full';
  ok: boolean;
  /** How many closed segments were read, and the range they span. */
  segments: number;
  first_segment?: number;
  last_segment?: number;
  records: number;
  ms: number;
  failure?: Finding;
}

/**
 * The sweep worker's V8 heap. Records are checked a frame at a time (their bytes live outside
 * the heap, bounded by frameCap); what grows with the log is one small entry per checkpoint
 * (about 250 bytes: a year of one a minute fits in 160 MB). A young generation smaller than
 * 16 MB made RSS grow, not shrink: buffers promoted with their objects wait for a full GC.
 */
export const SWEEP_HEAP = { maxOldGenerationSizeMb: 192, maxYoungGenerationSizeMb: 16 };

/** The exact finding, as the health reason and the error log give it. */
export function describeFinding(f: Finding): string {
  const where = [
    f.seq !== undefined && `seq ${f.seq}`,
    f.segment && `segment ${f.segment}`,
    f.offset !== undefined && `byte ${f.offset}`,
    f.file && `file ${f.file}`,
  ]
    .filter(Boolean)
    .join(', ');
  return `${f.code}: ${f.message}${where ? ` (at ${where})` : ''}`;
}

/**
 * The integrity sweep: the closed segments, re-verified by the verifier of `sealog
 * verify` (partial mode: the segments not chosen are crossed through their signed
 * manifests), in a worker thread. Incremental: segments new since the last sweep
 * plus a rotating sample of old ones; full: all of them. Each result is sealed as
 * an audit record; damage turns the daemon unhealthy until a full sweep passes.
 */
export function integritySweep(o: IntegrityOptions): (mode: 'incremental' | 'full', signal: AbortSignal) => Promise<SweepResult | { skipped: string }> {
  let last: SweepResult | undefined;
  o.status.section('integrity', () => last && { ...last, failure: last.failure && describeFinding(last.failure) });
  return async (mode, signal) => {
    const started = Date.now();
    const state = await loadState(o.layout);
    const closed = await closedSegments(o.layout, o.openSegment());
    if (!closed.length) return { skipped: 'no closed segments yet' };
    const through = closed[closed.length - 1]!;
    let check: number[];
    let sampleCursor = state.sample_cursor;
    if (mode === 'full') check = closed;
    else {
      const fresh = closed.filter((n) => n > state.through_segment);
      const old = closed.filter((n) => n <= state.through_segment);
      const sample: number[] = [];
      for (let i = 0; i < Math.min(o.sampleSegments, old.length); i++) {
        const next = old.find((n) => n >= sampleCursor) ?? old[0]!;
        sample.push(next);
        sampleCursor = next + 1;
      }
      check = [...new Set([...sample, ...fresh])].sort((a, b) => a - b);
    }
    const outcome = await runVerifier(
      { data: o.layout.data, ring: await o.ring(), origin: o.origin, frameCap: o.frameCap, check, throughSegment: through },
      { signal, keep: true },
    );
    if ('error' in outcome) {
      // Retention removed a segment under the sweep: not damage; the next sweep sees the new state.
      if (outcome.code === 'ENOENT') return { skipped: `a segment went away during the sweep (retention): ${outcome.error}` };
      throw new Error(outcome.error);
    }
    const v = outcome.verdict;
    const result: SweepResult = {
      mode,
      ok: v.ok,
      segments: check.length,
      first_segment: check[0],
      last_segment: check[check.length - 1],
      records: v.records,
      ms: Date.now() - started,
      ...(v.failure && { failure: v.failure }),
    };
    last = result;
    const event = {
      action: 'integrity.sweep',
      mode,
      ok: v.ok,
      segments_checked: check.length,
      first_segment: check[0] ?? null,
      last_segment: check[check.length - 1] ?? null,
      through_segment: through,
      records: v.records,
      ms: result.ms,
    };
    if (v.failure) {
      const finding = describeFinding(v.failure);
      o.status.setHealth('integrity', 'unhealthy', finding);
      o.log.error({ finding: v.failure, mode }, `integrity sweep found damage: ${finding}`);
      await o.seal(OwnType.INTEGRITY_SWEEP, { ...event, failure: { ...v.failure } }, 'error');
      // The state stays where it was: the next incremental sweep reads the same segments again.
      return result;
    }
    await o.seal(OwnType.INTEGRITY_SWEEP, event);
    if (mode === 'full') o.status.setHealth('integrity', 'ok');
    await writeState(o.layout, { through_segment: Math.max(through, state.through_segment), sample_cursor: sampleCursor });
    return result;
  };
}

/** Segments closed with a signed manifest (not `open`, the one being written), in order. */
export async function closedSegments(l: Layout, open?: number): Promise<number[]> {
  const closed: number[] = [];
  for (const { n } of await listSegments(l)) {
    if (
      n !== open &&
      (await stat(join(l.segments, manifestName(n))).then(
        () => true,
        () => false,
      ))
    )
      closed.push(n);
  }
  return closed;
}

export const writeState = (l: Layout, s: SweepState) => writeFileDurable(l.integrityState, `${JSON.stringify(s)}\n`, 0o640);

export async function loadState(l: Layout): Promise<SweepState> {
  try {
    return JSON.parse(await readFile(l.integrityState, 'utf8')) as SweepState;
  } catch {
    return { through_segment: 0, sample_cursor: 0 };
  }
}

/** The verifier's thread, kept from one sweep to the next, and the heap cap it was started with. */
let verifier: { worker: Worker; limits: typeof SWEEP_HEAP } | undefined;
/** Requests run one after another on that thread. */
let queue: Promise<unknown> = Promise.resolve();

export interface VerifierRun {
  signal?: AbortSignal;
  /** Keep the worker for the next request (the scheduled sweeps); else it ends with this one (the start check). */
  keep?: boolean;
  limits?: typeof SWEEP_HEAP;
}

/**
 * Verifies in a worker whose heap is capped (`limits`): what it decodes lives outside the heap
 * and is bounded by frameCap (frames.ts). A log that needs more heap than the cap ends the
 * worker, never the daemon: the promise rejects saying so. With `keep` the worker stays for
 * the next request (unreferenced while idle): a new thread per sweep left each old thread's
 * malloc arena behind, and RSS grew by about 25 MB a sweep.
 */
export function runVerifier(req: VerifyRequest, o: VerifierRun = {}): Promise<{ verdict: Verdict } | { error: string; code?: string }> {
  const run = queue.then(() => verifyOnce(req, o.signal, o.keep ?? false, o.limits ?? SWEEP_HEAP));
  queue = run.catch(() => {});
  return run;
}

function verifyOnce(
  req: VerifyRequest,
  signal: AbortSignal | undefined,
  keep: boolean,
  limits: typeof SWEEP_HEAP,
): Promise<{ verdict: Verdict } | { error: string; code?: string }> {
  const stopped = () => new Error('sweep stopped: the daemon is stopping');
  if (signal?.aborted) return Promise.reject(stopped());
  if (verifier?.limits !== limits) {
    void verifier?.worker.terminate();
    const started = new Worker(new URL('./verifyWorker.js', import.meta.url), { resourceLimits: limits });
    // An idle worker that fails is dropped, not left to throw its error in the daemon; a request's own listeners report it.
    started
      .on('error', () => {})
      .once('exit', () => {
        if (verifier?.worker === started) verifier = undefined;
      });
    verifier = { worker: started, limits };
  }
  const { worker } = verifier;
  return new Promise((resolve, reject) => {
    const settle = (gone: boolean) => {
      signal?.removeEventListener('abort', onAbort);
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      if (gone || !keep) {
        if (verifier?.worker === worker) verifier = undefined; // the next request starts a new one
        if (!gone) void worker.terminate();
      } else worker.unref();
    };
    const onMessage = (m: { verdict: Verdict } | { error: string; code?: string }) => {
      settle(false);
      resolve(m);
    };
    const onError = (err: NodeJS.ErrnoException) => {
      settle(true);
      reject(
        err.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new Error(`the verifier ran out of its ${limits.maxOldGenerationSizeMb} MB heap and was stopped (${err.message}); the log was not checked`, {
              cause: err,
            })
          : err,
      );
    };
    const onExit = (code: number) => {
      settle(true);
      reject(signal?.aborted ? stopped() : new Error(`verifier worker exited with code ${code}`));
    };
    const onAbort = () => void worker.terminate();
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    worker.ref();
    worker.postMessage(req);
  });
}
