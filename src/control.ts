import { connect, createServer, type Server } from 'node:net';
import type { Logger } from 'pino';
import { listenUnix } from './unixSocket.js';

// A signature request names up to 1000 records (~100 KB); nothing else comes near.
const MAX_REQUEST_BYTES = 256 * 1024;
const IDLE_MS = 5000;

/** One control command: the request object in, the answer out (sealog's own records resolve once durable). */
export type ControlHandler = (request: Record<string, unknown>) => unknown;

/**
 * The control socket: one JSON request line in, one JSON answer line out, then
 * the connection closes. Separate from the data socket so that asking how the
 * daemon is doing never queues behind events, and so its mode can be tighter.
 */
export class ControlServer {
  private server: Server | undefined;

  constructor(
    private readonly path: string,
    private readonly mode: number,
    private readonly handlers: Record<string, ControlHandler>,
    private readonly log: Logger,
  ) {}

  /** A command registered once its part is running (the jobs' 'requests'). */
  handle(cmd: string, handler: ControlHandler): void {
    this.handlers[cmd] = handler;
  }

  async listen(): Promise<void> {
    const server = createServer((sock) => {
      let buf = '';
      sock.setTimeout(IDLE_MS, () => sock.destroy());
      sock.on('error', () => {});
      sock.on('data', (chunk: Buffer) => {
        buf += chunk.toString('utf8');
        const nl = buf.indexOf('\n');
        if (nl < 0 && buf.length <= MAX_REQUEST_BYTES) return;
        sock.removeAllListeners('data');
        sock.setTimeout(0); // the request is in; a signature's answer waits for its commit
        void this.answer(nl < 0 ? undefined : buf.slice(0, nl)).then((a) => sock.end(`${JSON.stringify(a)}\n`));
      });
    });
    await listenUnix(server, this.path, this.mode);
    server.on('error', (err) => this.log.error({ err }, 'control socket error'));
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async answer(line: string | undefined): Promise<unknown> {
    let req: Record<string, unknown>;
    try {
      req = line === undefined ? {} : (JSON.parse(line) as Record<string, unknown>);
    } catch {
      return { error: 'the request is not a JSON line' };
    }
    const cmd = req?.cmd;
    const handler = typeof cmd === 'string' && Object.hasOwn(this.handlers, cmd) ? this.handlers[cmd]! : undefined;
    if (!handler) return { error: `unknown command ${JSON.stringify(cmd)}; known: ${Object.keys(this.handlers).join(', ')}` };
    try {
      return await handler(req);
    } catch (err) {
      this.log.error({ err, cmd }, 'control command failed');
      return { error: `${cmd} failed: ${(err as Error).message}` };
    }
  }
}

/** Sends one request to a running daemon's control socket and returns its answer. */
export function askDaemon(path: string, request: Record<string, unknown>, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let buf = '';
    sock.setTimeout(timeoutMs, () => sock.destroy(new Error(`no answer from ${path} within ${timeoutMs / 1000} s`)));
    sock.on('connect', () => sock.write(`${JSON.stringify(request)}\n`));
    sock.on('data', (chunk: Buffer) => (buf += chunk.toString('utf8')));
    sock.on('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'ENOENT' || err.code === 'ECONNREFUSED'
          ? new Error(`no daemon answers on ${path} (${err.code}): is sealog running, with this config?`)
          : err,
      ),
    );
    sock.on('end', () => {
      try {
        resolve(JSON.parse(buf) as Record<string, unknown>);
      } catch {
        reject(new Error(`the daemon's answer on ${path} is not JSON`));
      }
    });
  });
}
