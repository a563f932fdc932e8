import type { FastifyInstance } from 'fastify';
import { HttpCode } from '../../errors.js';
import type { HttpContext } from '../context.js';
import { errorResponses, HttpError } from '../httpError.js';

const sweep = {
  type: ['object', 'null'],
  additionalProperties: true,
  properties: {
    mode: { type: 'string' },
    ok: { type: 'boolean' },
    segments: { type: 'integer' },
    records: { type: 'integer' },
    ms: { type: 'number' },
    failure: { type: 'string' },
  },
};

/** The integrity verdict (the last sweep and the health it set), and a sweep on demand. */
export function registerIntegrity(app: FastifyInstance, ctx: HttpContext): void {
  app.get(
    '/api/v1/integrity',
    {
      config: { access: 'read', audited: true },
      schema: {
        summary: 'The integrity verdict: intact unless a sweep found damage, with the last sweep',
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            properties: {
              verdict: { enum: ['intact', 'failed', 'unchecked'] },
              reason: { type: 'string' },
              last_sweep: sweep,
              jobs: { type: 'object', additionalProperties: true },
            },
          },
          ...errorResponses,
        },
      },
    },
    async () => {
      const last = ctx.status.read('integrity') as { ok: boolean } | undefined;
      const damage = ctx.status.health().conditions.find((c) => c.component === 'integrity');
      const jobs = (ctx.status.read('jobs') ?? {}) as Record<string, unknown>;
      return {
        verdict: damage ? 'failed' : last ? 'intact' : 'unchecked',
        ...(damage && { reason: damage.reason }),
        last_sweep: last ?? null,
        jobs: Object.fromEntries(Object.entries(jobs).filter(([k]) => k.startsWith('integrity'))),
      };
    },
  );

  app.post(
    '/api/v1/integrity/verify',
    {
      config: { access: 'operate' },
      schema: {
        summary: 'Run an integrity sweep now and answer with its result',
        querystring: { type: 'object', additionalProperties: false, properties: { mode: { enum: ['incremental', 'full'], default: 'incremental' } } },
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            properties: { ran: { type: 'boolean' }, result: { type: 'object', additionalProperties: true }, error: { type: 'string' } },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const mode = (req.query as { mode: 'incremental' | 'full' }).mode;
      const run = ctx.runJob(mode === 'full' ? 'integrity-full' : 'integrity');
      if (!run) throw new HttpError(409, HttpCode.BAD_REQUEST, 'integrity sweeps are off (integrity.enabled: false)');
      const r = await run;
      if (!r.ran)
        throw new HttpError(409, HttpCode.BUSY, 'a sweep is running already: its result shows in GET /api/v1/integrity when it ends', { 'Retry-After': '5' });
      return r;
    },
  );
}
