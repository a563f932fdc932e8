import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { ErrorCode } from '../errors.js';
import type { PeerCred } from '../native.js';
import { listenUnix } from '../unixSocket.js';
import { Connection, type ConnectionHost } from './connection.js';
import type { Ingest } from './ingest.js';
import type { InputBudget } from './inputBudget.js';
import type { InputSource } from './source.js';

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
export class SocketSource implements InputSource {
  private server: Server | undefined;
  private conns = new Set<Connection>();
  private nextConn = 1;
  private lastRefusalLog = 0;
  readonly counts: SocketCounts = { connections: 0, lines: 0, refused: 0 };

  private readonly host: ConnectionHost;

  constructor(
    private readonly opts: SocketOptions,
    ingest: Ingest,
    budget: InputBudget,
    private readonly log: Logger,
  ) {
    this.host = { ingest, budget, maxLineBytes: opts.maxLineBytes, ackBufferBytes: opts.ackBufferBytes, log, lineTaken: () => this.counts.lines++ };
  }

  get openConnections(): number {
    return this.conns.size;
  }

  async start(): Promise<void> {
    // A small read buffer per socket: a paused connection holds little beyond what the input budget counts.
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, highWaterMark: 16 * 1024 }, (sock) => {
      if (this.conns.size >= this.opts.maxConnections) return this.refuse(sock);
      const c = new Connection(this.nextConn++, sock, this.host, this.peerOf(sock));
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
  async stopAccepting(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const c of this.conns) c.stopReading();
    // Not waiting for 'close': it comes only once every client has gone, and a client still
    // sending (or idle) must not hold up the drain. finish() ends the connections.
    server?.close();
  }

  /** After the pipeline has drained: every connection gets its last acks and an end. */
  async finish(): Promise<void> {
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
}
