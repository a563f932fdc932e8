import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../context.js';
import { errorResponses } from '../httpError.js';

const condition = {
  type: 'object',
  additionalProperties: false,
  properties: { component: { type: 'string' }, level: { type: 'string' }, reason: { type: 'string' }, since: { type: 'string' } },
};
const health = {
  type: 'object',
  additionalProperties: false,
  required: ['status'],
  properties: { status: { enum: ['ok', 'degraded', 'unhealthy', 'stopping'] }, conditions: { type: 'array', items: condition } },
};

/** Probes, metrics, status and the dashboard's overview. */
export function registerHealth(app: FastifyInstance, ctx: HttpContext): void {
  app.get(
    '/healthz',
    { config: { access: 'public' }, schema: { summary: 'Liveness: the daemon answers', security: [], response: { 200: health, ...errorResponses } } },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Readiness: 503 with the reasons while unhealthy or stopping',
        security: [],
        response: { 200: health, 503: health, ...errorResponses },
      },
    },
    async (_req, reply) => {
      if (ctx.stopping()) return reply.code(503).send({ status: 'stopping', conditions: [] });
      const h = ctx.status.health();
      return reply.code(h.level === 'unhealthy' ? 503 : 200).send({ status: h.level, conditions: h.conditions });
    },
  );

  app.get(
    '/metrics',
    {
      config: { access: 'operate' },
      schema: { summary: 'Prometheus metrics (text exposition format), names sealog_*', response: { 200: { type: 'string' }, ...errorResponses } },
    },
    async (_req, reply) => reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.scrape()),
  );

  app.get(
    '/api/v1/status',
    {
      config: { access: 'operate' },
      schema: { summary: 'The report of `sealog status`', response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses } },
    },
    async () => ctx.status.report(),
  );

  app.get(
    '/api/v1/whoami',
    {
      config: { access: 'any' },
      schema: {
        summary: "The calling token's name and role",
        response: {
          200: { type: 'object', additionalProperties: false, required: ['name', 'role'], properties: { name: { type: 'string' }, role: { type: 'string' } } },
          ...errorResponses,
        },
      },
    },
    async (req) => req.caller!,
  );

  app.get(
    '/api/v1/overview',
    {
      config: { access: 'read' },
      schema: {
        summary: "What the dashboard's overview shows: health, integrity, tree size, checkpoint age, key id, ingest figures",
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            properties: {
              health: { type: 'string' },
              conditions: { type: 'array', items: condition },
              origin: { type: 'string' },
              tree_size: { type: 'integer' },
              checkpoint_size: { type: 'integer' },
              checkpoint_age_s: { type: ['number', 'null'] },
              last_commit: { type: ['string', 'null'] },
              key: { type: ['string', 'null'] },
              key_id: { type: ['string', 'null'] },
              integrity: { type: ['object', 'null'], additionalProperties: true },
              events: {
                type: 'object',
                additionalProperties: false,
                properties: {
                  in: { type: 'integer' },
                  committed: { type: 'integer' },
                  rejected: { type: 'integer' },
                  duplicates: { type: 'integer' },
                  pending: { type: 'integer' },
                },
              },
              commit_p99_ms: { type: ['number', 'null'] },
              now: { type: 'string' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async () => {
      const s = ctx.logState();
      const h = ctx.status.health();
      const key = (await readFile(ctx.layout.publicKey, 'utf8').catch(() => '')).trim();
      const p99 = ctx.metrics.commitP99();
      return {
        health: h.level,
        conditions: h.conditions,
        origin: ctx.cfg.origin,
        tree_size: s.treeSize,
        checkpoint_size: s.checkpointSize,
        checkpoint_age_s: s.lastCheckpointAt ? (Date.now() - s.lastCheckpointAt) / 1000 : null,
        last_commit: s.lastCommitAt ? new Date(s.lastCommitAt).toISOString() : null,
        key: key || null,
        key_id: key ? (key.split('+')[1] ?? null) : null,
        integrity: (ctx.status.read('integrity') as object | undefined) ?? null,
        events: ctx.counts.totals(),
        commit_p99_ms: p99 === null ? null : p99 * 1000,
        now: new Date().toISOString(),
      };
    },
  );
}
