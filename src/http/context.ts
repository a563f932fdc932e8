import type { Config } from '../config.js';
import type { EventCounts } from '../eventCounts.js';
import type { Logger } from '../log.js';
import type { Ingest } from '../sources/ingest.js';
import type { Status } from '../status.js';
import type { Layout } from '../store/layout.js';
import type { AccessLog } from './accessLog.js';
import type { Metrics } from './metrics.js';
import type { Access, Role } from './roles.js';
import type { TokenBook } from './tokens.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the route needs (roles.ts); the server's one auth hook enforces it. */
    access?: Access;
    /** Reads of the trail are sealed into the access log. */
    audited?: boolean;
  }
  interface FastifyRequest {
    caller?: { name: string; role: Role };
  }
}

/** What the routes reach of the daemon: read-only views and the pipeline's entrance, never the writer. */
export interface HttpContext {
  cfg: Config;
  layout: Layout;
  status: Status;
  counts: EventCounts;
  metrics: Metrics;
  ingest: Ingest;
  tokens: TokenBook;
  access: AccessLog;
  log: Logger;
  /** The log's size and state, as the store reports it. */
  logState(): { treeSize: number; lastCommitAt: number; lastCheckpointAt: number; checkpointSize: number };
  /** Runs the named job now (an integrity sweep); undefined when the job is not configured. */
  runJob(name: string): Promise<{ ran: boolean; result?: unknown; error?: string }> | undefined;
  /** True once the daemon is stopping: ingest answers 503. */
  stopping(): boolean;
  /** Ingest requests in progress: the daemon waits for them before it closes ingest. */
  writes: { add(p: Promise<unknown>): void };
}
