import type { Writable } from 'node:stream';
import type { RawLine } from '../types.js';

/**
 * The pipeline's entrance as sources see it: write returns false when the
 * pipeline is full; the source then pauses until `whenReady` calls back.
 * One drain listener serves every paused source.
 */
export class Ingest {
  private waiting: (() => void)[] = [];
  private ended = false;
  /** Lines written so far; each becomes exactly one record. */
  accepted = 0;

  constructor(private readonly input: Writable) {
    input.on('drain', () => {
      const w = this.waiting;
      this.waiting = [];
      for (const resume of w) resume();
    });
  }

  write(line: RawLine): boolean {
    if (this.ended) throw new Error('ingest is closed');
    this.accepted++;
    return this.input.write(line);
  }

  whenReady(resume: () => void): void {
    this.waiting.push(resume);
  }

  get closed(): boolean {
    return this.ended;
  }

  end(): void {
    this.ended = true;
    this.input.end();
  }
}
