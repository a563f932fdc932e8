import type { FastifyInstance } from 'fastify';
import { AccessLog } from './accessLog.js';
import type { HttpContext } from './context.js';
import { listenApp } from './server.js';
import { TokenBook } from './tokens.js';

const CLOSE_GRACE_MS = 5000;

/** What the daemon hands the HTTP server; the rest of its context (tokens, access log, stopping) the server makes. */
export type HttpParts = Pick<HttpContext, 'cfg' | 'layout' | 'status' | 'counts' | 'metrics' | 'ingest' | 'log' | 'logState' | 'runJob'>;

/**
 * The HTTP server's lifecycle inside the daemon: started after the control socket;
 * stopped in two steps around the pipeline's drain. beginStop: new requests get 503,
 * requests still writing finish writing, the access log is sealed; finish (after the
 * drain, when every ingest request has its answer): connections close.
 */
export class HttpService {
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly app: FastifyInstance,
    readonly url: string,
    private readonly access: AccessLog,
    private readonly state: { stopping: boolean; writing: Set<Promise<unknown>> },
  ) {}

  /** Listens as configured; a port already taken leaves the daemon running without HTTP (degraded), since ingest must not depend on it. */
  static async start(p: HttpParts): Promise<HttpService | undefined> {
    const access = new AccessLog(p.ingest.audit, p.cfg.http.access_log_flush_ms, p.log);
    const state = { stopping: false, writing: new Set<Promise<unknown>>() };
    const writing = state.writing;
    const ctx: HttpContext = {
      ...p,
      tokens: new TokenBook(p.layout),
      access,
      stopping: () => state.stopping,
      writes: {
        add(w) {
          writing.add(w);
          void w.finally(() => writing.delete(w)).catch(() => {});
        },
      },
    };
    try {
      const { app, url } = await listenApp(ctx);
      const service = new HttpService(app, url, access, state);
      p.status.section('http', () => ({ url, ingest_requests_open: writing.size }));
      p.log.info({ url }, 'HTTP API and dashboard listening');
      return service;
    } catch (err) {
      await access.close();
      const why = `HTTP API not started on ${p.cfg.http.listen}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      p.status.setHealth('http', 'degraded', why);
      p.log.error({ err }, why);
      return undefined;
    }
  }

  async beginStop(): Promise<void> {
    this.state.stopping = true;
    this.closing = this.app.close();
    await Promise.allSettled([...this.state.writing]);
    await this.access.close();
  }

  async finish(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((r) => (timer = setTimeout(r, CLOSE_GRACE_MS).unref()));
    await Promise.race([this.closing, grace]);
    clearTimeout(timer);
    // A reader that stalls a stream past the grace period does not hold up the stop.
    this.app.server.closeAllConnections();
    await this.closing;
  }
}
