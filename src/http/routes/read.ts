import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { HttpCode } from '../../errors.js';
import { listCheckpoints } from '../../store/layout.js';
import type { HttpContext } from '../context.js';
import { errorResponses, HttpError } from '../httpError.js';

/** The trail: checkpoint, records, proofs, tiles and reports (on src/read and src/report). */
export function registerReadRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.get('/api/v1/checkpoint', {
    config: { access: 'read', audited: true },
    schema: { summary: 'The newest signed checkpoint (C2SP tlog-checkpoint note)', produces: ['text/plain'], response: { 200: { type: 'string' }, ...errorResponses } },
  }, async (_req, reply) => {
    const all = await listCheckpoints(ctx.layout);
    const newest = all[all.length - 1];
    if (!newest) throw new HttpError(404, HttpCode.NOT_FOUND, 'no checkpoint yet: the log is empty');
    const text = await readFile(join(ctx.layout.checkpoints, newest.name), 'utf8');
    return reply.header('Cache-Control', 'no-cache').type('text/plain; charset=utf-8').send(text);
  });
}
