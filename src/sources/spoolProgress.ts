import { open, readFile } from 'node:fs/promises';
import { OwnType } from '../ownRecords.js';
import { writeFileDurable } from '../store/fsutil.js';
import { coalesced } from './coalesced.js';

/**
 * How far each spool file is committed. The log is the durable record: every
 * spool record names its file's fingerprint and line, and a finished file has a
 * sealed `sealog.spool.ingested` record. What is kept here is a cache of that:
 *   - spool-state.json: in-progress files and the seq through which it is complete,
 *     rewritten now and then (losing it only means a longer scan at start);
 *   - spool-done.jsonl: fingerprints of finished files, appended and fsync'd
 *     before the cache's seq may pass their `ingested` record.
 * At start, the cache is loaded and the log after its seq is replayed over it.
 */
export interface DoneFile {
  fp: string;
  name: string;
  seq: number;
  /** How much of the file the fingerprint covers, and the lines in it: a file written in place that grows later continues from here. */
  bytes?: number;
  lines?: number;
  /** The file's inode: tells the file itself (left in the spool by a crash before its move) from a copy dropped again. */
  ino?: number;
}

/** The progress key of lines that continue a finished file's content (a file written in place that grew). */
export const continuing = (fp: string) => `after:${fp}`;

export class SpoolProgress {
  /** fingerprint -> highest committed line (accepted or rejected) */
  readonly committed = new Map<string, number>();
  readonly done = new Map<string, DoneFile>();
  /** The last finished file of each name: where a file written in place continues from. */
  readonly lastByName = new Map<string, DoneFile>();
  /** Every spool commit with seq <= throughSeq is reflected above. */
  throughSeq = -1;
  /** Seqs of `ingested` records whose done entry is still being written: the cache must not pass them. */
  private holding = new Set<number>();
  /** What the cache file last held: an unchanged state is not written (each save costs two fsyncs). */
  private saved = '';

  constructor(
    private readonly statePath: string,
    private readonly donePath: string,
  ) {}

  async load(): Promise<void> {
    try {
      const s = JSON.parse(await readFile(this.statePath, 'utf8')) as { seq: number; files: Record<string, number> };
      this.throughSeq = s.seq;
      for (const [fp, line] of Object.entries(s.files)) this.committed.set(fp, line);
    } catch {
      // no cache or an unreadable one: the replay from seq 0 rebuilds it
    }
    const text = await readFile(this.donePath, 'utf8').catch(() => '');
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        this.noteDone(JSON.parse(line) as DoneFile);
      } catch {
        // a torn last line from a crash; the replay restores that entry
      }
    }
  }

  /** Replays one committed record from the log (startup). */
  replay(r: {
    seq: number;
    type?: string;
    source?: { kind?: string; fp?: string; line?: number; continues?: string };
    event?: Record<string, any>;
  }): DoneFile | undefined {
    if (r.source?.kind === 'spool' && r.source.fp && typeof r.source.line === 'number') {
      this.lineCommitted(r.source.fp, r.source.line);
      if (r.source.continues) this.lineCommitted(continuing(r.source.continues), r.source.line);
    } else if (r.type === OwnType.SPOOL_FAILED && typeof r.event?.fp === 'string') {
      this.committed.delete(r.event.fp);
    } else if (r.type === OwnType.SPOOL_INGESTED && typeof r.event?.fp === 'string') {
      // Also when the done file has it already: the cache may be older than the done entry,
      // and a file left both in progress and done would be ingested a second time.
      this.committed.delete(r.event.fp);
      if (typeof r.event.continues === 'string') this.committed.delete(continuing(r.event.continues));
      if (this.done.has(r.event.fp)) return undefined;
      const d: DoneFile = { fp: r.event.fp, name: String(r.event.file), seq: r.seq };
      if (typeof r.event.bytes === 'number' && typeof r.event.lines === 'number') Object.assign(d, { bytes: r.event.bytes, lines: r.event.lines });
      this.noteDone(d);
      return d; // the caller appends it to the done file
    }
    return undefined;
  }

  lineCommitted(fp: string, line: number): void {
    if ((this.committed.get(fp) ?? 0) < line) this.committed.set(fp, line);
  }

  /** A spool commit through `seq` was applied. */
  advance(seq: number): void {
    if (seq > this.throughSeq) this.throughSeq = seq;
  }

  private noteDone(d: DoneFile): void {
    this.done.set(d.fp, d);
    const last = this.lastByName.get(d.name);
    if (!last || last.seq <= d.seq) this.lastByName.set(d.name, d);
  }

  async markDone(d: DoneFile, continues?: string): Promise<void> {
    this.holding.add(d.seq);
    this.unwritten.push(d);
    await this.writeDone();
    this.noteDone(d);
    this.committed.delete(d.fp);
    if (continues) this.committed.delete(continuing(continues));
    this.holding.delete(d.seq);
  }

  /** Entries waiting for the done file: many files finishing at once share one append and one fsync (and one descriptor). */
  private unwritten: DoneFile[] = [];
  private readonly writeDone = coalesced(async () => {
    const lines = this.unwritten.map((d) => `${JSON.stringify(d)}\n`).join('');
    this.unwritten = [];
    const fh = await open(this.donePath, 'a', 0o640);
    try {
      await fh.appendFile(lines);
      await fh.datasync();
    } finally {
      await fh.close();
    }
  });

  forget(fp: string, continues?: string): void {
    this.committed.delete(fp);
    if (continues) this.committed.delete(continuing(continues));
  }

  private saving: Promise<void> | undefined;

  /** One save at a time (they share a temp file); a failed save does not stop the next. */
  save(): Promise<void> {
    const next = (this.saving ?? Promise.resolve()).catch(() => {}).then(() => this.saveNow());
    this.saving = next;
    return next;
  }

  private async saveNow(): Promise<void> {
    const seq = Math.min(this.throughSeq, ...[...this.holding].map((s) => s - 1));
    const text = JSON.stringify({ seq, files: Object.fromEntries(this.committed) });
    if (text === this.saved) return;
    await writeFileDurable(this.statePath, text, 0o640);
    this.saved = text;
  }
}
