import type { FastifyInstance } from 'fastify';
import { HttpCode, type SealogError } from '../../errors.js';
import { checkHold, newHoldId, readActiveHolds, readHoldRequests, writeHoldRequest, type Hold } from '../../jobs/holds.js';
import type { HttpContext } from '../context.js';
import { errorResponses, HttpError } from '../httpError.js';

const criteria = {
  stream: { type: 'string', minLength: 1, maxLength: 64 },
  from: { type: 'string', format: 'date-time' },
  to: { type: 'string', format: 'date-time' },
  correlation_id: { type: 'string', minLength: 1, maxLength: 256 },
  tenant_id: { type: 'string', minLength: 1, maxLength: 256 },
} as const;
const hold = {
  type: 'object',
  additionalProperties: false,
  properties: {
    id: { type: 'string' },
    ...criteria,
    reason: { type: 'string' },
    requested_at: { type: 'string' },
    requested_by: { type: 'string' },
    placed_seq: { type: 'integer' },
  },
};
const request = { type: 'object', additionalProperties: true, properties: { op: { enum: ['hold', 'release'] }, id: { type: 'string' } } };

/**
 * Legal holds over HTTP, through the same request files as `sealog hold`/`release`
 * (src/jobs/holds.ts): the daemon seals each request as an audit record before it
 * applies it, at its next requests pickup. The token's name is the requester.
 */
export function registerHolds(app: FastifyInstance, ctx: HttpContext): void {
  app.get(
    '/api/v1/holds',
    {
      config: { access: 'operate', audited: true },
      schema: {
        summary: 'Legal holds in force, and requests not applied yet',
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            properties: { active: { type: 'array', items: hold }, pending: { type: 'array', items: request } },
          },
          ...errorResponses,
        },
      },
    },
    async () => ({ active: await readActiveHolds(ctx.layout), pending: (await readHoldRequests(ctx.layout)).map((r) => r.request) }),
  );

  app.post(
    '/api/v1/holds',
    {
      config: { access: 'operate' },
      schema: {
        summary: "Request a legal hold (sealed and applied at the daemon's next requests pickup)",
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['reason'],
          properties: { ...criteria, reason: { type: 'string', minLength: 1, maxLength: 2000 } },
        },
        response: {
          202: { type: 'object', additionalProperties: false, properties: { id: { type: 'string' }, status: { const: 'requested' } } },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const h = req.body as Partial<Hold>;
      try {
        checkHold(h);
      } catch (err) {
        throw new HttpError(
          400,
          HttpCode.BAD_REQUEST,
          (err as SealogError).message.replaceAll('--correlation-id', 'correlation_id').replaceAll('--tenant', 'tenant_id').replaceAll('--', ''),
        );
      }
      const id = newHoldId();
      await writeHoldRequest(ctx.layout, {
        op: 'hold',
        ...h,
        id,
        reason: h.reason!,
        requested_at: new Date().toISOString(),
        requested_by: `token:${req.caller!.name}`,
      });
      return reply.code(202).send({ id, status: 'requested' });
    },
  );

  app.delete(
    '/api/v1/holds/:id',
    {
      config: { access: 'operate' },
      schema: {
        summary: 'Request the release of a legal hold',
        params: { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,100}$' } } },
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['reason'],
          properties: { reason: { type: 'string', minLength: 1, maxLength: 2000 } },
        },
        response: {
          202: { type: 'object', additionalProperties: false, properties: { id: { type: 'string' }, status: { const: 'release requested' } } },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const { id } = req.params as { id: string };
      if (!(await readActiveHolds(ctx.layout)).some((h) => h.id === id)) throw new HttpError(404, HttpCode.NOT_FOUND, `no active hold ${id}`);
      await writeHoldRequest(ctx.layout, {
        op: 'release',
        id,
        reason: (req.query as { reason: string }).reason,
        requested_at: new Date().toISOString(),
        requested_by: `token:${req.caller!.name}`,
      });
      return reply.code(202).send({ id, status: 'release requested' });
    },
  );
}
