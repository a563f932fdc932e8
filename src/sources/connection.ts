import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { RejectCode } from '../errors.js';
import type { PeerCred } from '../native.js';
import type { AckTarget, JsonValue, RawLine, Source } from '../types.js';
import type { Ingest } from './ingest.js';
import type { InputBudget } from './inputBudget.js';
import { isBlank, LineSplitter } from './lineSplitter.js';

const END_GRACE_MS = 2000;
const HANDSHAKE_PREFIX = Buffer.from('{"$sealog"');

/** What a connection needs from its socket source: where lines go, the shared input budget, its limits. */
export interface ConnectionHost {
  readonly ingest: Pick<Ingest, 'full' | 'whenReady' | 'write'>;
  readonly budget: InputBudget;
  readonly maxLineBytes: number;
  /** Unread acks a client may pile up before its own reads pause. */
  readonly ackBufferBytes: number;
  readonly log: Logger;
  /** Counts each line handed to the pipeline. */
  lineTaken(): void;
}

/**
 * One client connection: bytes in, lines to the pipeline, acks back. What it
 * has read but not yet handed on is kept as bytes (the chunks as read), framed
 * one line at a time only when the pipeline has room, and counted against the
 * daemon-wide input budget: neither line objects nor bytes pile up per connection.
 */
export class Connection implements AckTarget {
  private splitter: LineSplitter;
  private lineNo = 0;
  private acks = false;
  private outstanding = 0;
  private inputEnded = false;
  private tailTaken = false;
  private stopped = false;
  private pausedFor = new Set<string>();
  /** Chunks read and not yet loaded into the splitter. */
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  /** Bytes this connection counts against the budget now. */
  private held = 0;

  constructor(
    readonly id: number,
    private readonly sock: Socket,
    private readonly host: ConnectionHost,
    private readonly peer: PeerCred | undefined,
  ) {
    this.splitter = new LineSplitter(host.maxLineBytes);
    sock.on('data', (chunk: Buffer) => {
      if (this.stopped) return;
      this.chunks.push(chunk);
      this.chunkBytes += chunk.length;
      this.feed();
      if (host.budget.over) this.waitForBudget();
    });
    sock.on('end', () => this.inputDone());
    // A reset connection (a client killed with acks unread) has no 'end': its last bytes still count.
    sock.on('close', () => this.inputDone());
    sock.on('drain', () => this.resume('acks'));
    sock.on('error', (err) => host.log.debug({ conn: id, err: err.message }, 'client connection error'));
    // Accepted paused (pauseOnConnect): it reads nothing until the budget has room for it.
    if (host.budget.over) this.waitForBudget();
    else sock.resume();
  }

  private waitForBudget(): void {
    if (this.pausedFor.has('budget')) return;
    this.pause('budget');
    this.host.budget.whenRoom(() => {
      if (this.stopped || this.sock.destroyed || this.inputEnded) return false;
      this.resume('budget');
      return true;
    });
  }

  private inputDone(): void {
    if (this.stopped || this.inputEnded) return;
    this.inputEnded = true;
    this.feed();
  }

  /** Hands lines to the pipeline until its entrance is at its mark, then waits for room: the mark holds exactly. */
  private feed(): void {
    const { ingest } = this.host;
    for (;;) {
      if (ingest.full) {
        if (!this.pausedFor.has('pipeline')) {
          this.pause('pipeline');
          ingest.whenReady(() => this.resume('pipeline'));
        }
        break;
      }
      const l = this.splitter.next();
      if (l) {
        this.line(l.bytes, l.oversize);
        continue;
      }
      const chunk = this.chunks.shift();
      if (chunk) {
        this.chunkBytes -= chunk.length;
        this.splitter.load(chunk);
        continue;
      }
      // What came after the last newline: a line like any other, marked so a cut one is named as cut.
      if (this.inputEnded && !this.tailTaken) {
        this.tailTaken = true;
        const last = this.splitter.end();
        if (last) this.line(last.bytes, last.oversize, true);
      }
      break;
    }
    // The socket's own read-ahead counts too: it is input held here all the same.
    const now = this.chunkBytes + this.splitter.held + this.sock.readableLength;
    this.host.budget.adjust(now - this.held);
    this.held = now;
    this.maybeEnd();
  }

  private line(bytes: Buffer, oversize?: { length: number; sha256: string }, unterminated?: boolean): void {
    const lineNo = ++this.lineNo;
    if (!oversize && isBlank(bytes)) return; // blank lines carry no event
    // Its third byte first (`$`): telling an event from a handshake then takes no view of its bytes.
    if (!oversize && bytes[2] === 0x24 && bytes.subarray(0, HANDSHAKE_PREFIX.length).equals(HANDSHAKE_PREFIX)) {
      const ack = lineNo === 1 ? parseHandshake(bytes) : undefined;
      if (ack !== undefined) {
        this.acks = ack;
        return;
      }
      this.submit({ bytes, source: this.source(lineNo), ack: this.acks ? this : undefined, rejectAs: RejectCode.BAD_HANDSHAKE });
      return;
    }
    const raw: RawLine = { bytes, oversize, source: this.source(lineNo), ack: this.acks ? this : undefined };
    if (unterminated) raw.unterminated = true; // rare: the usual line's object is made without a spread
    this.submit(raw);
  }

  private source(line: number): Source {
    return this.peer ? { kind: 'socket', conn: this.id, line, peer: this.peer } : { kind: 'socket', conn: this.id, line };
  }

  private submit(raw: RawLine): void {
    if (raw.ack) this.outstanding++;
    this.host.lineTaken();
    this.host.ingest.write(raw);
  }

  committed(count: number, throughLine: number, lastSeq: number): void {
    this.ackLine(count, `{"ack":"commit","count":${count},"through_line":${throughLine},"last_seq":${lastSeq}}\n`);
  }

  rejected(line: number, seq: number, code: string, reason: string): void {
    this.ackLine(1, `${JSON.stringify({ ack: 'rejected', line, seq, code, reason })}\n`);
  }

  duplicate(line: number, firstSeq: number, eventId: JsonValue): void {
    this.ackLine(1, `${JSON.stringify({ ack: 'duplicate', line, event_id: eventId, seq: firstSeq })}\n`);
  }

  private ackLine(settled: number, text: string): void {
    this.outstanding -= settled;
    if (!this.sock.destroyed && this.sock.writable) {
      // A client that does not read its acks slows only itself: its reads pause.
      if (!this.sock.write(text) && this.sock.writableLength > this.host.ackBufferBytes) this.pause('acks');
    }
    this.maybeEnd();
  }

  private get drained(): boolean {
    return this.tailTaken && this.chunks.length === 0;
  }

  private maybeEnd(): void {
    if (this.inputEnded && this.outstanding === 0 && this.drained && this.sock.writable) this.sock.end();
  }

  private pause(why: string): void {
    this.pausedFor.add(why);
    this.sock.pause();
  }

  private resume(why: string): void {
    if (!this.pausedFor.delete(why) || this.stopped) return;
    if (why === 'pipeline') this.feed();
    if (this.pausedFor.size === 0) this.sock.resume();
  }

  /** Stop reading; what was read and not yet handed on is let go (the client was not acked for it). */
  stopReading(): void {
    this.stopped = true;
    this.sock.pause();
    this.host.budget.adjust(-this.held);
    this.held = 0;
  }

  endAfterAcks(): void {
    // Closed once the last acks are handed to the kernel (the client can still read them),
    // or after a grace period if the client does not read them: a stop never hangs on a client.
    const grace = setTimeout(() => this.sock.destroy(), END_GRACE_MS);
    this.sock.once('close', () => clearTimeout(grace));
    if (this.sock.writable) this.sock.end(() => this.sock.destroy());
    else this.sock.destroy();
  }
}

function parseHandshake(bytes: Buffer): boolean | undefined {
  try {
    const v = JSON.parse(bytes.toString('utf8')) as { $sealog?: { ack?: unknown } };
    const keys = Object.keys(v ?? {});
    if (keys.length !== 1 || typeof v.$sealog !== 'object' || v.$sealog === null) return undefined;
    return typeof v.$sealog.ack === 'boolean' ? v.$sealog.ack : undefined;
  } catch {
    return undefined;
  }
}
