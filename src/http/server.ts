import { readFile } from 'node:fs/promises';
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { HttpCode } from '../errors.js';
import { openTrail } from '../read/trail.js';
import type { HttpContext } from './context.js';
import { errorSchema, HttpError, notFound, sendError, toHttpError } from './httpError.js';
import { parseListen } from './listen.js';
import { allows } from './roles.js';
import { registerDashboard } from './routes/dashboard.js';
import { registerHealth } from './routes/health.js';
import { registerHolds } from './routes/holds.js';
import { registerIngest } from './routes/ingest.js';
import { registerIntegrity } from './routes/integrity.js';
import { registerReadRoutes } from './routes/read.js';
import { registerReports } from './routes/reports.js';

const BEARER = /^Bearer ([A-Za-z0-9_\-.~+/]+=*)$/;

/**
 * The HTTP API and dashboard (DESIGN §12) as a Fastify app: every route with a JSON
 * schema for its input and output, one auth hook that applies the role matrix, one
 * error shape. Built apart from listening, so the OpenAPI document can be generated
 * without a daemon.
 */
export async function buildApp(ctx: HttpContext, https?: { cert: Buffer; key: Buffer }): Promise<FastifyInstance> {
  const h = ctx.cfg.http;
  // Node checks request timeouts on this interval (30 s by default): often enough for the configured bound to hold.
  const timing = { connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(h.request_timeout_ms / 4))), headersTimeout: h.request_timeout_ms };
  const app = Fastify({
    ...(https ? { https: { ...https, ...timing } } : { http: timing }),
    logger: false,
    bodyLimit: h.max_body_bytes,
    // Slow clients: the whole request must arrive within request_timeout_ms; an idle keep-alive
    // connection is closed after idle_timeout_ms; a reader that stops reading a streamed answer is
    // cut (read.ts). No socket timeout beyond these: it would also cut a request still being worked on.
    requestTimeout: h.request_timeout_ms,
    connectionTimeout: 0,
    keepAliveTimeout: h.idle_timeout_ms,
    return503OnClosing: true,
    // Malformed or too slow requests, refused before any route: the same coded error shape.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) return void socket.destroy();
      const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
      const body = JSON.stringify({
        error: timeout
          ? { code: HttpCode.TIMEOUT, message: `the request did not arrive within http.request_timeout_ms (${h.request_timeout_ms} ms)` }
          : { code: HttpCode.BAD_REQUEST, message: 'malformed HTTP request' },
      });
      socket.end(
        `HTTP/1.1 ${timeout ? '408 Request Timeout' : '400 Bad Request'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Unknown query fields are an error, not silently dropped; repeated ones become arrays.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  });
  app.addSchema(errorSchema);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'sealog HTTP API',
        version: '1',
        description:
          'DESIGN §12: records, proofs, tiles, reports, integrity, holds, ingest. Every route but /healthz, /readyz and the dashboard files needs `Authorization: Bearer <token>` (`sealog token create`).',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  // A route that takes no query still has a schema for it: an unknown parameter is a 400, not ignored.
  app.addHook('onRoute', (route) => {
    route.schema ??= {};
    route.schema.querystring ??= { type: 'object', additionalProperties: false, properties: {} };
  });
  app.addHook('onRequest', async (req) => {
    const access = req.routeOptions.config.access ?? 'any';
    if (access === 'public') return;
    const m = BEARER.exec(req.headers.authorization ?? '');
    const entry = m ? await ctx.tokens.lookup(m[1]!) : undefined;
    if (!entry)
      throw new HttpError(401, HttpCode.UNAUTHORIZED, m ? 'unknown or revoked token' : 'this route needs Authorization: Bearer <token> (sealog token create)', {
        'WWW-Authenticate': 'Bearer realm="sealog"',
      });
    req.caller = { name: entry.name, role: entry.role };
    if (!allows(entry.role, access))
      throw new HttpError(403, HttpCode.FORBIDDEN, `role ${entry.role} may not use ${req.method} ${req.routeOptions.url} (needs ${access} access)`);
  });
  app.addHook('onResponse', async (req, reply) => {
    ctx.metrics.httpRequests.inc({ route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
    if (req.routeOptions.config.audited && req.caller) {
      ctx.access.note({
        at: new Date().toISOString(),
        caller: req.caller.name,
        role: req.caller.role,
        method: req.method,
        route: req.routeOptions.url ?? req.url,
        ...(req.query && Object.keys(req.query).length ? { query: req.query as never } : {}),
        ...(req.params && Object.keys(req.params).length ? { params: req.params as never } : {}),
        status: reply.statusCode,
      });
    }
  });
  app.setErrorHandler((err, _req, reply) => sendError(reply, toHttpError(err as Error, ctx.log)));
  app.setNotFoundHandler(notFound);

  registerHealth(app, ctx);
  registerIngest(app, ctx);
  const trail = openTrail(ctx.cfg.data_dir, { frameCap: ctx.cfg.limits.max_frame_bytes, onWarning: (m) => ctx.log.warn(m) });
  registerReadRoutes(app, ctx, trail);
  registerReports(app, ctx);
  registerIntegrity(app, ctx);
  registerHolds(app, ctx);
  registerDashboard(app);
  app.get('/api/v1/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());
  return app;
}

/** The app, listening as configured (TLS when a cert is given); the URL it serves on. */
export async function listenApp(ctx: HttpContext): Promise<{ app: FastifyInstance; url: string }> {
  const h = ctx.cfg.http;
  const https = h.tls.cert ? { cert: await readFile(h.tls.cert), key: await readFile(h.tls.key) } : undefined;
  const app = await buildApp(ctx, https);
  const { host, port } = parseListen(h.listen);
  try {
    await app.listen({ host, port });
  } catch (err) {
    await app.close();
    throw err;
  }
  const addr = app.server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  return { app, url: `${https ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${bound}` };
}
