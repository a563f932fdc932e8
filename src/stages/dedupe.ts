import { jcsFast } from '../crypto/canonical.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Layout } from '../store/layout.js';
import { recentLines } from '../store/scan.js';
import type { AckTarget, Draft, JsonValue, Packed } from '../types.js';
import { dedupeKey, eventDigest, eventIdOf } from './serialize.js';

export interface DedupeOptions {
  windowMs: number;
  maxEntries: number;
  /** The seq the next record sealed after this stage gets. */
  nextSeq: number;
  /** Duplicate acks waiting for a commit before dedupe stops taking input (backpressure). */
  maxWaiting?: number;
  now?: () => number;
  /** Told of each resend absorbed, by source kind (the daemon's counts: it will never be committed). */
  onDuplicate?: (kind: string) => void;
}

interface Entry {
  seq: number;
  /** Digest of the sanitized event: the same id on a different event is not a resend. */
  digest: string;
  at: number;
}

interface Waiting {
  ack: AckTarget;
  line: number;
  firstSeq: number;
  eventId: JsonValue;
  /** The last seq forwarded before this duplicate: its ack waits until that one is durable. */
  after: number;
}

/**
 * dedupe: an event whose `event_id` was already committed (or is on its way to
 * be) within the window, with the same content, is a client's resend after a
 * lost ack: it is not sealed again, and its sender gets a `duplicate` ack naming
 * the first one's seq once that one is durable. The same id on a different event
 * is a different event and is kept. Memory is bounded by maxEntries.
 *
 * It must sit right before seal: every draft it passes on is sealed, one seq
 * each, in order, so it knows the seq each first occurrence gets.
 */
export class Deduper {
  private readonly seen = new Map<string, Entry>();
  /**
   * Keys in the order they were remembered, for expiry and the size cap. Not the Map's own
   * order: V8 leaves a deleted Map entry as a hole until it rehashes, and every new iterator
   * walks the holes at the front again (quadratic once the cap is reached).
   */
  private order: { key: string; e: Entry }[] = [];
  private head = 0;
  private waiting: Waiting[] = [];
  private nextSeq: number;
  /** Every seq up to here is durable. */
  private durable: number;
  private resumeInput: (() => void) | undefined;
  private readonly maxWaiting: number;
  private readonly now: () => number;
  readonly counts = { duplicates: 0, conflicts: 0 };

  constructor(private readonly opts: DedupeOptions) {
    this.nextSeq = opts.nextSeq;
    this.durable = opts.nextSeq - 1;
    this.maxWaiting = opts.maxWaiting ?? 4096;
    this.now = opts.now ?? Date.now;
  }

  get entries(): number {
    return this.seen.size;
  }

  /** At start: a committed record from the log tail, oldest first. */
  replay(r: { seq: number; ts: string; stream?: string; source: Draft['source']; event: Draft['event']; redactions: Draft['redactions'] }): void {
    if (r.stream === 'rejected') return;
    const key = dedupeKey(r);
    if (key === undefined || this.seen.has(key)) return;
    this.remember(key, { seq: r.seq, digest: eventDigest(jcsFast(r.event)), at: Date.parse(r.ts) }, this.now());
  }

  /**
   * The pipeline stage, a chunk of records at a time (as the front hands them on): the
   * chunk's records less its resends. While maxWaiting duplicate acks wait for a commit,
   * the next chunk waits too (a chunk can add at most its length past the mark).
   */
  readonly stage = (chunk: Packed[]): Packed[] | Promise<Packed[]> => {
    if (this.waiting.length < this.maxWaiting) return this.pass(chunk);
    return new Promise((resolve) => (this.resumeInput = () => resolve(this.pass(chunk))));
  };

  private pass(chunk: Packed[]): Packed[] {
    const out: Packed[] = [];
    for (const d of chunk) if (this.keep(d)) out.push(d);
    return out;
  }

  /** True for a record to seal (counted: it takes the next seq); false for a resend, absorbed here. */
  private keep(d: Packed): boolean {
    if (d.dedupe === undefined) return this.forward();
    // The digest is of the canonical text, so key order does not make a different event.
    const { key, digest: dg } = d.dedupe;
    const now = this.now();
    const e = this.seen.get(key);
    if (e === undefined || e.at < now - this.opts.windowMs) {
      if (e) this.seen.delete(key);
      this.remember(key, { seq: this.nextSeq, digest: dg, at: now }, now);
      return this.forward();
    }
    if (e.digest !== dg) {
      this.counts.conflicts++;
      return this.forward();
    }
    this.counts.duplicates++;
    this.opts.onDuplicate?.(d.source.kind);
    if (!d.ack) return false;
    const w: Waiting = { ack: d.ack, line: d.source.line ?? 0, firstSeq: e.seq, eventId: eventIdOf(key), after: this.nextSeq - 1 };
    // Everything passed on before this line (its sender's earlier lines, the first occurrence)
    // is durable at `after`: then the ack keeps the sender's order and promises nothing early.
    if (w.after <= this.durable) this.tell(w);
    else this.waiting.push(w);
    return false;
  }

  /** Records through `seq` are durable: acks of duplicates waiting for them go out. */
  committed(seq: number): void {
    if (seq <= this.durable) return;
    this.durable = seq;
    let i = 0;
    while (i < this.waiting.length && this.waiting[i]!.after <= seq) this.tell(this.waiting[i++]!);
    if (i === 0) return;
    this.waiting = this.waiting.slice(i);
    // Every waiting ack is for a record already passed on, so commits keep coming until it goes out.
    if (this.waiting.length >= this.maxWaiting) return;
    const resume = this.resumeInput;
    this.resumeInput = undefined;
    resume?.();
  }

  private forward(): true {
    this.nextSeq++;
    return true;
  }

  private tell(w: Waiting): void {
    w.ack.duplicate(w.line, w.firstSeq, w.eventId);
  }

  /** Oldest first: expiry and the size cap both trim from the front. */
  private remember(key: string, e: Entry, now: number): void {
    this.seen.set(key, e);
    this.order.push({ key, e });
    const cutoff = now - this.opts.windowMs;
    while (this.head < this.order.length) {
      const old = this.order[this.head]!;
      if (this.seen.size <= this.opts.maxEntries && old.e.at >= cutoff) break;
      // An entry replaced since (the same id again after its window) is no longer this one.
      if (this.seen.get(old.key) === old.e) this.seen.delete(old.key);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * The dedupe window as the log's recent records leave it, so a resend after a crash is
 * still caught. Parsing is what costs: the lines that may hold an id are counted first,
 * and only the last max_entries of them (all the window can keep) are parsed.
 */
export async function loadDedupe(
  cfg: Config,
  l: Layout,
  nextSeq: number,
  onDuplicate: (kind: string) => void,
  onPartial: (why: string) => void,
  log: Logger,
): Promise<Deduper> {
  const started = Date.now();
  const { window_seconds, max_entries } = cfg.dedupe;
  const d = new Deduper({ windowMs: window_seconds * 1000, maxEntries: max_entries, nextSeq, onDuplicate });
  const since = started - window_seconds * 1000;
  const lines = () => recentLines(l, since, cfg.limits.max_frame_bytes, '"event_id"');
  let candidates = 0;
  try {
    for await (const _ of lines()) candidates++;
    let skip = candidates - max_entries;
    for await (const line of lines()) if (skip-- <= 0) d.replay(JSON.parse(line.toString('utf8')) as Parameters<Deduper['replay']>[0]);
  } catch (err) {
    // Damage in an old segment is the integrity sweep's and verify's to report; it must not stop
    // ingest. A window rebuilt short can only let a resend through twice, visibly, never lose one.
    log.error({ err: (err as Error).message, ids: d.entries }, 'dedupe window rebuilt only in part: a segment within it does not decode (run sealog verify)');
    onPartial((err as Error).message);
  }
  log.info({ ids: d.entries, candidates, ms: Date.now() - started }, 'dedupe window rebuilt from the log');
  return d;
}
