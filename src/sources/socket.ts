import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { ErrorCode, RejectCode } from '../errors.js';
import type { PeerCred } from '../native.js';
import type { AckTarget, JsonValue, RawLine, Source } from '../types.js';
import { listenUnix } from '../unixSocket.js';
import type { Ingest } from './ingest.js';
import { isBlank, LineSplitter, type SplitLine } from './lineSplitter.js';

export interface SocketOptions {
  path: string;
  mode: number;
  maxLineBytes: number;
  /** Unread acks a client may pile up before its own reads pause. */
  ackBufferBytes: number;
  /** Open connections at most (each holds a descriptor); more are told so and closed. */
  maxConnections: number;
  /** The kernel's credentials of a connection's sender (SO_PEERCRED), when the native addon is loaded. */
  peerCred?: (fd: number) => PeerCred;
  /** A listening socket inherited from systemd (socket activation) instead of binding `path`. */
  listenFd?: number;
}

const END_GRACE_MS = 2000;
const HANDSHAKE_PREFIX = Buffer.from('{"$sealog"');

export interface SocketCounts {
  connections: number;
  lines: number;
  refused: number;
}

/**
 * The Unix stream socket source: NDJSON in, one RawLine per line out, with
 * backpressure (a full pipeline pauses the socket). A first line
 * {"$sealog":{"ack":true}} turns on acknowledgements for that connection.
 */
export class SocketSource {
  private server: Server | undefined;
  private conns = new Set<Connection>();
  private nextConn = 1;
  private lastRefusalLog = 0;
  readonly counts: SocketCounts = { connections: 0, lines: 0, refused: 0 };

  constructor(private readonly opts: SocketOptions, private readonly ingest: Ingest, private readonly log: Logger) {}

  get openConnections(): number {
    return this.conns.size;
  }

  async listen(): Promise<void> {
    const server = createServer({ allowHalfOpen: true }, (sock) => {
      if (this.conns.size >= this.opts.maxConnections) return this.refuse(sock);
      const c = new Connection(this.nextConn++, sock, this, this.peerOf(sock));
      this.conns.add(c);
      this.counts.connections++;
      sock.once('close', () => this.conns.delete(c));
    });
    if (this.opts.listenFd !== undefined) {
      // Socket activation: systemd created, bound and owns the socket (path, mode, owner: sealog.socket).
      const fd = this.opts.listenFd;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ fd }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } else await listenUnix(server, this.opts.path, this.opts.mode);
    server.on('error', (err) => this.log.error({ err }, 'socket server error'));
    this.server = server;
  }

  /** Asked once per connection, at accept: the kernel's answer, which nothing the client sends can change. */
  private peerOf(sock: Socket): PeerCred | undefined {
    if (!this.opts.peerCred) return undefined;
    const fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd;
    try {
      return typeof fd === 'number' && fd >= 0 ? this.opts.peerCred(fd) : undefined;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'cannot read the sender credentials of a connection');
      return undefined;
    }
  }

  /** Stops accepting and reading; lines already framed stay in the pipeline. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const c of this.conns) c.stopReading();
    // Not waiting for 'close': it comes only once every client has gone, and a client still
    // sending (or idle) must not hold up the drain. finish() ends the connections.
    server?.close();
  }

  /** After the pipeline has drained: every connection gets its last acks and an end. */
  finish(): void {
    for (const c of this.conns) c.endAfterAcks();
  }

  /** One line saying why, then closed: the client learns it was not served, and the limit holds. */
  private refuse(sock: Socket): void {
    this.counts.refused++;
    sock.on('error', () => {});
    const reason = `sealog serves at most ${this.opts.maxConnections} connections at once (socket.max_connections); try again later`;
    sock.end(`${JSON.stringify({ error: ErrorCode.TOO_MANY_CONNECTIONS, reason })}\n`, () => sock.destroy());
    const now = Date.now();
    if (now - this.lastRefusalLog >= 10_000) {
      this.lastRefusalLog = now;
      this.log.warn({ open: this.conns.size, refused: this.counts.refused }, 'connection refused: socket.max_connections reached');
    }
  }

  /**
   * @internal Hands lines to the pipeline until its entrance is at its mark,
   * then pauses the connection until there is room: the mark holds exactly.
   */
  feed<L>(lines: L[], from: number, submit: (l: L) => void, conn: Connection): number {
    let i = from;
    while (i < lines.length) {
      if (this.ingest.full) {
        conn.pause('pipeline');
        this.ingest.whenReady(() => conn.resume('pipeline'));
        break;
      }
      this.counts.lines++;
      submit(lines[i++]!);
    }
    return i;
  }

  /** @internal */
  write(line: RawLine): void {
    this.ingest.write(line);
  }

  /** @internal */
  get options(): SocketOptions {
    return this.opts;
  }
  /** @internal */
  get logger(): Logger {
    return this.log;
  }
}

class Connection implements AckTarget {
  private splitter: LineSplitter;
  private lineNo = 0;
  private acks = false;
  private outstanding = 0;
  private inputEnded = false;
  private stopped = false;
  private pausedFor = new Set<string>();
  /** Lines framed from what was read but not yet handed on, while the pipeline is full. */
  private backlog: (SplitLine & { unterminated?: boolean })[] = [];
  private fed = 0;

  constructor(readonly id: number, private readonly sock: Socket, private readonly src: SocketSource, private readonly peer: PeerCred | undefined) {
    this.splitter = new LineSplitter(src.options.maxLineBytes);
    sock.on('data', (chunk: Buffer) => {
      if (this.stopped) return;
      for (const l of this.splitter.push(chunk)) this.backlog.push(l);
      this.feed();
    });
    sock.on('end', () => {
      if (this.stopped) return;
      this.unterminated();
      this.inputEnded = true;
      this.feed();
    });
    // A reset connection (a client killed with acks unread) has no 'end': its last bytes still count.
    sock.on('close', () => {
      if (this.stopped) return;
      this.unterminated();
      this.feed();
    });
    sock.on('drain', () => this.resume('acks'));
    sock.on('error', (err) => src.logger.debug({ conn: id, err: err.message }, 'client connection error'));
  }

  private feed(): void {
    this.fed = this.src.feed(this.backlog, this.fed, (l) => this.line(l.bytes, l.oversize, l.unterminated), this);
    if (this.fed === this.backlog.length) {
      this.backlog = [];
      this.fed = 0;
    }
    this.maybeEnd();
  }

  /** What came after the last newline: a line like any other, queued behind what waits for room, marked so a cut one is named as cut. */
  private unterminated(): void {
    const last = this.splitter.end();
    if (last) this.backlog.push({ ...last, unterminated: true });
  }

  private line(bytes: Buffer, oversize?: { length: number; sha256: string }, unterminated?: boolean): void {
    const lineNo = ++this.lineNo;
    if (!oversize && isBlank(bytes)) return; // blank lines carry no event
    if (!oversize && bytes.subarray(0, HANDSHAKE_PREFIX.length).equals(HANDSHAKE_PREFIX)) {
      const ack = lineNo === 1 ? parseHandshake(bytes) : undefined;
      if (ack !== undefined) {
        this.acks = ack;
        return;
      }
      this.submit({ bytes, source: this.source(lineNo), ack: this.acks ? this : undefined, rejectAs: RejectCode.BAD_HANDSHAKE });
      return;
    }
    this.submit({ bytes, oversize, source: this.source(lineNo), ack: this.acks ? this : undefined, ...(unterminated ? { unterminated } : {}) });
  }

  private source(line: number): Source {
    return this.peer ? { kind: 'socket', conn: this.id, line, peer: this.peer } : { kind: 'socket', conn: this.id, line };
  }

  private submit(raw: RawLine): void {
    if (raw.ack) this.outstanding++;
    this.src.write(raw);
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
      if (!this.sock.write(text) && this.sock.writableLength > this.src.options.ackBufferBytes) this.pause('acks');
    }
    this.maybeEnd();
  }

  private maybeEnd(): void {
    if (this.inputEnded && this.outstanding === 0 && this.backlog.length === 0 && this.sock.writable) this.sock.end();
  }

  pause(why: string): void {
    this.pausedFor.add(why);
    this.sock.pause();
  }

  resume(why: string): void {
    if (!this.pausedFor.delete(why) || this.stopped) return;
    if (why === 'pipeline') this.feed();
    if (this.pausedFor.size === 0) this.sock.resume();
  }

  stopReading(): void {
    this.stopped = true;
    this.sock.pause();
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
