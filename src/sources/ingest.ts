import type { Writable } from 'node:stream';
import type { EventCounts } from '../eventCounts.js';
import { ownDraft, type SealOwn } from '../ownRecords.js';
import type { AckTarget, RawLine } from '../types.js';

/**
 * The pipeline's entrance as sources see it: write returns false when the
 * pipeline is full; the source then pauses until `whenReady` calls back.
 * One drain listener serves every paused source. Lines are written to the
 * pipeline's first stage (`input`, the pipeline itself by default): the chain's
 * own writable side would only pass each one on, a second stream per line.
 */
export class Ingest {
  private waiting: (() => void)[] = [];
  private ended = false;

  constructor(
    private readonly pipeline: Writable,
    private readonly counts: EventCounts,
    private readonly input: Writable = pipeline,
  ) {
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

  /**
   * sealog's own record (a spool file's fate, a removal, a hold, a sweep): through the
   * same pipeline as every event, so it is chained, batched and committed in order, and
   * resolved only once durable. Rejects once ingest is closed (the daemon is stopping).
   */
  readonly audit: SealOwn = (type, event, level = 'info') =>
    new Promise<number>((resolve, reject) => {
      if (this.ended) {
        reject(new Error('the daemon is stopping: no more records'));
        return;
      }
      const done = (_l: number, seq: number) => resolve(seq);
      const ack: AckTarget = { committed: (_n, l, seq) => done(l, seq), rejected: done, duplicate: done };
      const draft = ownDraft(type, event, level, ack);
      this.write({ bytes: Buffer.alloc(0), source: draft.source, system: draft });
    });

  whenReady(resume: () => void): void {
    this.waiting.push(resume);
  }

  get closed(): boolean {
    return this.ended;
  }

  end(): void {
    this.ended = true;
    this.pipeline.end();
  }
}
