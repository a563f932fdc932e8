import type { Logger } from '../log.js';
import type { Status } from '../status.js';

/** How far the pipeline has got: records accepted but not yet durable, and when a commit last happened. */
export interface Progress {
  pending: number;
  lastCommitAt: number;
}

export interface NotifierOptions {
  /** $NOTIFY_SOCKET: a path, or '@name' in the abstract namespace. */
  socket: string;
  /** From $WATCHDOG_USEC (when $WATCHDOG_PID, if set, is this process); pings go at half of it. */
  watchdogMs?: number;
  /** STATUS= at least this often (with each watchdog ping when those come more often). */
  statusEveryMs: number;
  /** Sends one datagram (the native addon's notify). */
  send(socket: string, message: string): void;
  status(): string;
  progress(): Progress;
  /** Told when the pipeline is found stuck (pings withheld) and when it moves again. */
  onStall?(stuck: boolean): void;
  log: Logger;
}

/** The notify socket and watchdog interval systemd handed this process, if any (sd_notify(3), sd_watchdog_enabled(3)). */
export function notifyEnv(env: NodeJS.ProcessEnv, pid = process.pid): { socket: string; watchdogMs?: number } | undefined {
  const socket = env.NOTIFY_SOCKET;
  if (!socket) return undefined;
  const usec = Number(env.WATCHDOG_USEC);
  const forUs = env.WATCHDOG_PID === undefined || Number(env.WATCHDOG_PID) === pid;
  return { socket, watchdogMs: forUs && Number.isSafeInteger(usec) && usec > 0 ? usec / 1000 : undefined };
}

/**
 * Whether this watchdog tick may ping. A pipeline that holds records it had at
 * the last tick and has committed nothing since is stuck: withholding the ping
 * lets systemd restart it. A record that arrived just before a tick gets one
 * tick of grace, so a healthy daemon never misses two pings in a row.
 */
export function mayPing(last: Progress, now: Progress): boolean {
  return !(now.pending > 0 && last.pending > 0 && now.lastCommitAt === last.lastCommitAt);
}

/** Type=notify: READY=1 once input is accepted, STATUS= with live counts, WATCHDOG=1 while commits progress, STOPPING=1. */
export class Notifier {
  private timer: NodeJS.Timeout | undefined;
  private last: Progress = { pending: 0, lastCommitAt: 0 };
  private withheld = false;
  private sendFailed = false;
  readonly counts = { pings: 0, withheld: 0 };

  constructor(private readonly opts: NotifierOptions) {}

  ready(): void {
    const { watchdogMs, statusEveryMs } = this.opts;
    this.last = this.opts.progress();
    this.send(`READY=1\nSTATUS=${this.opts.status()}${watchdogMs ? '\nWATCHDOG=1' : ''}`);
    this.timer = setInterval(() => this.tick(), watchdogMs ? Math.min(watchdogMs / 2, statusEveryMs) : statusEveryMs).unref();
  }

  stopping(): void {
    clearInterval(this.timer);
    this.send('STOPPING=1\nSTATUS=stopping: committing everything accepted');
  }

  private tick(): void {
    // The watchdog first: a stall it finds changes the health this tick's STATUS reports.
    const ping = !!this.opts.watchdogMs && this.watchdog();
    const status = `STATUS=${this.opts.status()}`;
    this.send(ping ? `WATCHDOG=1\n${status}` : status);
  }

  private watchdog(): boolean {
    const now = this.opts.progress();
    const ok = mayPing(this.last, now);
    this.last = now;
    if (!ok) {
      this.counts.withheld++;
      if (!this.withheld) {
        this.opts.log.error(
          { pending: now.pending, lastCommitAt: now.lastCommitAt ? new Date(now.lastCommitAt).toISOString() : 'none in this run' },
          'pipeline stuck: records pending and nothing committed; withholding the watchdog ping',
        );
        this.opts.onStall?.(true);
      }
      this.withheld = true;
      return false;
    }
    if (this.withheld) {
      this.opts.log.warn({ pending: now.pending }, 'pipeline moving again; watchdog pings resume');
      this.opts.onStall?.(false);
    }
    this.withheld = false;
    this.counts.pings++;
    return true;
  }

  private send(message: string): void {
    try {
      this.opts.send(this.opts.socket, message);
      this.sendFailed = false;
    } catch (err) {
      // Once per failure streak: a notify socket that went away must not flood the log every tick.
      if (!this.sendFailed) this.opts.log.warn({ err: (err as Error).message, socket: this.opts.socket }, 'cannot notify systemd');
      this.sendFailed = true;
    }
  }
}

/** Type=notify when systemd asked for it ($NOTIFY_SOCKET): READY now, then STATUS and watchdog pings. */
export function startNotifier(
  send: ((socket: string, message: string) => void) | undefined,
  log: Logger,
  status: Status,
  counts: () => { accepted: number; committed: number; pending: number; lastCommitAt: number },
): Notifier | undefined {
  const env = notifyEnv(process.env);
  delete process.env.NOTIFY_SOCKET; // for this process only, not for anything it starts
  if (!env) return undefined;
  if (!send) {
    log.error({ socket: env.socket }, 'NOTIFY_SOCKET is set but the native addon is not loaded: systemd will not see READY=1 (build it: npm rebuild)');
    return undefined;
  }
  const notifier = new Notifier({
    ...env,
    statusEveryMs: 5000,
    send,
    progress: counts,
    onStall: (stuck) =>
      status.setHealth('watchdog', stuck ? 'unhealthy' : 'ok', 'records pending and nothing committed for a watchdog interval; pings withheld'),
    status: () => {
      const c = counts();
      return `${status.health().level}; accepted ${c.accepted}, committed ${c.committed}, pending ${c.pending}`;
    },
    log,
  });
  status.section('systemd', () => ({ notify_socket: env.socket, watchdog_ms: env.watchdogMs ?? null, ...notifier.counts }));
  notifier.ready();
  return notifier;
}
