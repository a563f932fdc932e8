import { HttpCode } from '../errors.js';
import { HttpError } from './httpError.js';

/**
 * At most `concurrent` trail reads (searches, proofs, tiles) at once, the others
 * waiting in line, at most `queue` of them; one more gets 503 + Retry-After. A read
 * holds decoded frames while it runs, so this bounds the memory readers can take
 * however many there are, and keeps them from crowding the pipeline's main thread.
 */
export class ReadGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrent: number,
    private readonly queue: number,
  ) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrent) {
      if (this.waiting.length >= this.queue)
        throw new HttpError(
          503,
          HttpCode.BUSY,
          `${this.running} reads run and ${this.waiting.length} wait (http.max_concurrent_reads, max_read_queue): retry later`,
          { 'Retry-After': '1' },
        );
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else this.running++;
    try {
      return await fn();
    } finally {
      // The slot passes straight to the next in line (running stays counted), or is freed.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  get figures(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }
}
