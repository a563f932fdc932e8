import type { FastifyInstance } from 'fastify';
import { ErrorCode, HttpCode, SealogError } from '../../errors.js';
import { parseTime } from '../../read/filter.js';
import { buildReport, renderHtml, STANDARDS, type Standard } from '../../report/index.js';
import type { HttpContext } from '../context.js';
import { errorResponses, HttpError } from '../httpError.js';

/**
 * GET /api/v1/reports/{standard}: the report of `sealog report` (src/report), JSON or
 * the self-contained HTML. A report verifies the whole log, so one is built at a time;
 * another request meanwhile gets 503 + Retry-After. The keys are the data directory's
 * ring, as `sealog report` without --key (the report says the key was not pinned).
 */
export function registerReports(app: FastifyInstance, ctx: HttpContext): void {
  let building = false;
  app.get(
    '/api/v1/reports/:standard',
    {
      config: { access: 'read', audited: true },
      schema: {
        summary: 'A compliance report (DESIGN §13) for a period, as JSON or self-contained HTML',
        params: { type: 'object', additionalProperties: false, required: ['standard'], properties: { standard: { enum: [...STANDARDS] } } },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { from: { type: 'string', maxLength: 64 }, to: { type: 'string', maxLength: 64 }, format: { enum: ['json', 'html'], default: 'json' } },
        },
        produces: ['application/json', 'text/html'],
        response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses },
      },
    },
    async (req, reply) => {
      const { standard } = req.params as { standard: Standard };
      const q = req.query as { from?: string; to?: string; format: 'json' | 'html' };
      if (building) throw new HttpError(503, HttpCode.BUSY, 'a report is being built: one at a time', { 'Retry-After': '5' });
      building = true;
      try {
        const now = Date.now();
        const report = await buildReport({
          data: ctx.cfg.data_dir,
          standard,
          from: q.from === undefined ? undefined : parseTime(q.from, now, 'from'),
          to: q.to === undefined ? undefined : parseTime(q.to, now, 'to'),
          frameCap: ctx.cfg.limits.max_frame_bytes,
          threads: 1,
          onWarning: (m) => ctx.log.warn(m),
        });
        if (q.format === 'html')
          return reply
            .type('text/html; charset=utf-8')
            .header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'")
            .send(renderHtml(report));
        return reply.type('application/json; charset=utf-8').send(JSON.stringify(report));
      } catch (err) {
        if (err instanceof SealogError && err.code === ErrorCode.USAGE) throw new HttpError(400, HttpCode.BAD_REQUEST, err.message.replaceAll('--', ''));
        throw err;
      } finally {
        building = false;
      }
    },
  );
}
