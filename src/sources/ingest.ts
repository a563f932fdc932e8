import type { Writable } from 'node:stream';
import type { EventCounts } from '../eventCounts.js';
import type { RawLine } from '../types.js';

/**
 * The pipeline's entrance as sources see it: write returns false when the
 * pipeline is full; the source then pauses until `whenReady` calls back.
 * One drain listener serves every paused source.
 */
export class Ingest {
  private waiting: (() => void)[] = [];
  private ended = false;

  constructor(private readonly input: Writable, private readonly counts: EventCounts) {
    input.on('drain', () => {
      const w = this.waiting;
      this.waiting = [];
      for (const resume of w) resume();
    });
  }

  write(line: RawLine): boolean {
    if (this.ended) throw new Error('ingest is closed');
    this.counts.received(line.source.kind);
    return this.input.write(line);
  }

  /** True while the pipeline's entrance is at its mark: a source waits (whenReady) before writing more. */
  get full(): boolean {
    return this.input.writableNeedDrain;
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
