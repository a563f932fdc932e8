import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { EventCounts } from '../eventCounts.js';
import type { Logger } from '../log.js';
import type { Ingest } from '../sources/ingest.js';
import type { Status } from '../status.js';
import type { Layout } from '../store/layout.js';
import { AccessLog } from './accessLog.js';
import type { HttpContext } from './context.js';
import type { Metrics } from './metrics.js';
import { listenApp } from './server.js';
import { TokenBook } from './tokens.js';

const CLOSE_GRACE_MS = 5000;

export interface HttpParts {
  cfg: Config;
  layout: Layout;
  status: Status;
  counts: EventCounts;
  metrics: Metrics;
  ingest: Ingest;
  log: Logger;
  logState: HttpContext['logState'];
  runJob: HttpContext['runJob'];
}

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
