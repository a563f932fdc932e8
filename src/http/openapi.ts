import { loadConfig } from '../config.js';
import { EventCounts } from '../eventCounts.js';
import { createLogger } from '../log.js';
import { Status } from '../status.js';
import { layout } from '../store/layout.js';
import type { HttpContext } from './context.js';
import { Metrics } from './metrics.js';
import { buildApp } from './server.js';

/**
 * The OpenAPI document of the API, generated from the route schemas (the same as
 * GET /api/v1/openapi.json serves), without a daemon: the app is built on the
 * embedded default config and never listens. docs/openapi.json is this, written
 * by `node scripts/openapi.mjs` and held equal to it by a test.
 */
export async function openapiDocument(): Promise<Record<string, unknown>> {
  const cfg = loadConfig(undefined);
  const unused = () => {
    throw new Error('not available while generating the OpenAPI document');
  };
  const ctx = {
    cfg,
    layout: layout(cfg.data_dir),
    status: new Status(),
    counts: new EventCounts(),
    metrics: new Metrics(),
    log: createLogger('silent'),
    logState: unused,
    runJob: unused,
    stopping: () => false,
    writes: { add: unused },
  } as unknown as HttpContext;
  const app = await buildApp(ctx);
  await app.ready();
  const doc = app.swagger() as unknown as Record<string, unknown>;
  await app.close();
  return doc;
}
