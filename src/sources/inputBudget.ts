/** What one reader may take in one read before it next looks at the budget (a socket reads up to 64 KiB at a time). */
const READ_BYTES = 64 * 1024;
/** Waiting readers are woken at least this often while there is room, in case the ones woken before read nothing. */
const WAKE_MS = 50;

/**
 * One daemon-wide budget of input bytes that sources hold before the pipeline
 * takes them (read but not yet framed, lines begun but not ended). Memory is
 * bounded for the daemon as a whole, whatever the number of connections: a
 * reader that finds the total over the limit stops reading, and readers are
 * woken again only as many as the room left can take, oldest first.
 */
export class InputBudget {
  private used = 0;
  private full = false;
  /** Each returns false when its reader is gone (it then takes no room). */
  private waiting: (() => boolean)[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Times a reader had to wait for the budget. */
  pauses = 0;

  constructor(
    readonly limit: number,
    private readonly onFull: (full: boolean, used: number) => void = () => {},
  ) {}

  get bytes(): number {
    return this.used;
  }

  get over(): boolean {
    return this.used > this.limit;
  }

  get paused(): number {
    return this.waiting.length;
  }

  /** A reader's holding changed by `delta` bytes (negative when it handed lines on or went away). */
  adjust(delta: number): void {
    this.used += delta;
    if (!this.full && this.used > this.limit) {
      this.full = true;
      this.onFull(true, this.used);
    }
    if (this.used > this.limit * 0.75) return;
    if (this.full) {
      this.full = false;
      this.onFull(false, this.used);
    }
    this.wake();
  }

  /** `resume` is called once there is room for this reader; it returns false if the reader is gone by then. */
  whenRoom(resume: () => boolean): void {
    this.pauses++;
    this.waiting.push(resume);
    this.timer ??= setInterval(() => this.wake(), WAKE_MS).unref();
  }

  private wake(): void {
    let room = Math.max(1, Math.floor((this.limit - this.used) / READ_BYTES));
    if (this.used > this.limit * 0.75) return;
    while (room > 0 && this.waiting.length) if (this.waiting.shift()!()) room--;
    if (!this.waiting.length) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
