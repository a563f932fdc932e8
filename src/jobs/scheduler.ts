import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../log.js';
import type { Status } from '../status.js';

export interface Job {
  name: string;
  /** node-cron expression (six fields: the first is seconds), matched in UTC. */
  schedule: string;
  /** Jobs that share a lock never run at the same time (the two integrity sweeps). Default: the name. */
  lock?: string;
  /** One run; `signal` aborts when the daemon stops. The result is logged and shown in status. */
  run(signal: AbortSignal): Promise<unknown>;
}

interface JobFigures {
  schedule: string;
  runs: number;
  /** Ticks that came while this job still ran or waited for its lock: skipped, never stacked. */
  skipped: number;
  failed: number;
  running: boolean;
  last_started?: string;
  last_finished?: string;
  last_error?: string;
  last_result?: unknown;
}

/**
 * The daemon's cron jobs: node-cron ticks, in UTC, one run at a time per lock.
 * A tick that finds its job still running is skipped and counted. stop() ends
 * the schedules, aborts what runs and waits for it, so the daemon's last
 * checkpoint comes after the jobs' last records.
 */
export class Jobs {
  private readonly tasks: ScheduledTask[] = [];
  /** By lock: the last run started or waiting on it (runs on one lock chain one after another). */
  private readonly running = new Map<string, Promise<void>>();
  /** Jobs running or waiting for their lock. */
  private readonly queued = new Set<string>();
  private readonly figures: Record<string, JobFigures> = {};
  private readonly abort = new AbortController();
  private readonly byName = new Map<string, Job>();

  constructor(
    private readonly log: Logger,
    private readonly status: Status,
  ) {
    status.section('jobs', () => structuredClone(this.figures));
  }

  add(job: Job): void {
    if (!cron.validate(job.schedule)) throw new Error(`job ${job.name}: invalid cron expression ${JSON.stringify(job.schedule)}`);
    this.byName.set(job.name, job);
    this.figures[job.name] = { schedule: job.schedule, runs: 0, skipped: 0, failed: 0, running: false };
    const logger = {
      info: (m: string) => this.log.debug({ job: job.name }, m),
      warn: (m: string) => this.log.warn({ job: job.name }, m),
      error: (m: string | Error) => this.log.error({ job: job.name, err: m }, 'scheduler error'),
      debug: (m: string | Error) => this.log.debug({ job: job.name }, String(m)),
    };
    this.tasks.push(cron.schedule(job.schedule, () => this.tick(job), { timezone: 'Etc/UTC', name: job.name, logger, suppressMissedWarning: true }));
  }

  /**
   * Runs the job now, or once the other job holding its lock is done; resolves when this run
   * ends. A tick that finds this same job running or already waiting is skipped (never
   * stacked); one that finds another job on its lock waits its turn, so jobs sharing a lock
   * and a schedule cannot starve each other.
   */
  tick(job: Job): Promise<void> {
    const f = this.figures[job.name]!;
    const lock = job.lock ?? job.name;
    if (this.abort.signal.aborted) return Promise.resolve();
    if (this.queued.has(job.name)) {
      f.skipped++;
      this.log.info({ job: job.name, skipped: f.skipped }, 'job still running at its next tick: tick skipped');
      return Promise.resolve();
    }
    this.queued.add(job.name);
    const run = (this.running.get(lock) ?? Promise.resolve()).then(async () => {
      try {
        if (this.abort.signal.aborted) return;
        f.running = true;
        f.last_started = new Date().toISOString();
        f.last_result = await job.run(this.abort.signal);
        f.runs++;
        f.last_error = undefined;
        this.status.setHealth(`job:${job.name}`, 'ok');
        this.log.debug({ job: job.name, result: f.last_result }, 'job done');
      } catch (err) {
        f.failed++;
        f.last_error = (err as Error).message;
        if (!this.abort.signal.aborted) {
          this.log.error({ job: job.name, err }, 'job failed');
          this.status.setHealth(`job:${job.name}`, 'degraded', `last run failed: ${f.last_error}`);
        }
      } finally {
        if (f.running) f.last_finished = new Date().toISOString();
        f.running = false;
        this.queued.delete(job.name);
        if (this.running.get(lock) === run) this.running.delete(lock);
      }
    });
    this.running.set(lock, run);
    return run;
  }

  /** Runs a job now, off schedule (the API's sweep on demand); ran: false when it or its lock is busy, undefined when no such job. */
  runNow(name: string): Promise<{ ran: boolean; result?: unknown; error?: string }> | undefined {
    const job = this.byName.get(name);
    if (!job) return undefined;
    if (this.running.has(job.lock ?? job.name) || this.abort.signal.aborted) return Promise.resolve({ ran: false });
    return this.tick(job).then(() => {
      const f = this.figures[name]!;
      return f.last_error === undefined ? { ran: true, result: f.last_result } : { ran: true, error: f.last_error };
    });
  }

  /** Resolves once the job's lock is free (a CLI request waits out a retention run, then runs its own). */
  async idle(name: string): Promise<void> {
    const job = this.byName.get(name);
    for (let busy; job && (busy = this.running.get(job.lock ?? job.name)); ) await busy;
  }

  async stop(): Promise<void> {
    for (const t of this.tasks) await t.destroy();
    this.abort.abort();
    await Promise.all(this.running.values());
  }
}
