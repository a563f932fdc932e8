import type { FastifyInstance } from 'fastify';
import { HttpCode, RejectCode } from '../../errors.js';
import { isBlank, LineSplitter } from '../../sources/lineSplitter.js';
import type { Source } from '../../types.js';
import type { HttpContext } from '../context.js';
import { errorResponses, HttpError } from '../httpError.js';
import { ingestLines, type InputLine, type IngestResult } from '../ingestRequest.js';
import { otlpEvents } from '../otlp.js';

const NDJSON_TYPES = ['application/x-ndjson', 'application/jsonl', 'application/ndjson', 'text/plain'];
const RETRY_AFTER_S = '1';

const ingestResult = {
  type: 'object',
  additionalProperties: false,
  required: ['committed', 'rejected', 'duplicates', 'last_seq'],
  properties: {
    committed: { type: 'integer' },
    rejected: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['line', 'code', 'reason'],
        properties: { line: { type: 'integer' }, code: { type: 'string' }, reason: { type: 'string' } },
      },
    },
    duplicates: { type: 'integer' },
    last_seq: { type: ['integer', 'null'] },
  },
};

/**
 * POST /api/v1/events (NDJSON) and POST /v1/logs (OTLP/HTTP JSON): the same
 * pipeline, acks, dead letter and dedupe as the socket, answered only after
 * commit. Under backpressure a new request gets 503 + Retry-After at once rather
 * than queueing: at most http.max_ingest_requests bodies (each capped) are held.
 */
export function registerIngest(app: FastifyInstance, ctx: HttpContext): void {
  let requestNo = 0;
  let open = 0;
  const admit = (): number => {
    if (ctx.stopping() || ctx.ingest.closed)
      throw new HttpError(503, HttpCode.STOPPING, 'the daemon is stopping: send to its successor', { 'Retry-After': '5' });
    if (ctx.ingest.full || open >= ctx.cfg.http.max_ingest_requests) {
      throw new HttpError(
        503,
        HttpCode.BUSY,
        ctx.ingest.full
          ? 'the pipeline is full (disk slower than input): retry later'
          : `${open} ingest requests are open (http.max_ingest_requests): retry later`,
        { 'Retry-After': RETRY_AFTER_S },
      );
    }
    return ++requestNo;
  };
  const run = async (lines: InputLine[], source: (line: number) => Source): Promise<IngestResult> => {
    open++;
    try {
      const p = ingestLines(ctx.ingest, lines, source);
      ctx.writes.add(p);
      return await p;
    } finally {
      open--;
    }
  };

  app.register(async (scope) => {
    // The body stays bytes: each line goes to the pipeline as sent, like a socket line.
    scope.addContentTypeParser(NDJSON_TYPES, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    scope.post(
      '/api/v1/events',
      {
        config: { access: 'ingest' },
        schema: {
          summary: 'Ingest NDJSON events; answered only after they are committed',
          description: `Body: one JSON object per line (Content-Type ${NDJSON_TYPES.join(', ')}). Lines that are not events go to the dead letter and are listed in \`rejected\`; an event_id already committed within the dedupe window counts as a duplicate. 503 with Retry-After while the pipeline is full.`,
          consumes: NDJSON_TYPES,
          response: { 200: ingestResult, ...errorResponses },
        },
      },
      async (req) => {
        if (!Buffer.isBuffer(req.body))
          throw new HttpError(415, HttpCode.UNSUPPORTED_MEDIA_TYPE, `send NDJSON (Content-Type ${NDJSON_TYPES.join(', ')}): one event per line`);
        const conn = admit();
        const splitter = new LineSplitter(ctx.cfg.socket.max_line_bytes);
        const lines: InputLine[] = [];
        let n = 0;
        const body = req.body as Buffer;
        const add = (l: { bytes: Buffer; oversize?: { length: number; sha256: string } }) => {
          n++;
          if (!l.oversize && isBlank(l.bytes)) return;
          lines.push({ bytes: l.bytes, line: n, ...(l.oversize && { oversize: l.oversize }) });
        };
        for (const l of splitter.push(body)) add(l);
        const last = splitter.end();
        if (last) add(last);
        const token = req.caller!.name;
        return run(lines, (line) => ({ kind: 'http', conn, line, token }));
      },
    );
  });

  app.post(
    '/v1/logs',
    {
      config: { access: 'ingest' },
      schema: {
        summary: 'OTLP/HTTP logs, JSON encoding: each LogRecord one event; answered after commit',
        description:
          'ExportLogsServiceRequest in the OTLP JSON encoding. Resource and scope attributes are kept under event.otel, severity maps to level, traceId/spanId to trace_id/span_id. LogRecords that are not objects or are rejected by the pipeline are counted in partialSuccess.rejectedLogRecords.',
        body: { type: 'object', properties: { resourceLogs: { type: 'array' } } },
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            properties: {
              partialSuccess: {
                type: 'object',
                additionalProperties: false,
                properties: { rejectedLogRecords: { type: 'integer' }, errorMessage: { type: 'string' } },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const items = otlpEvents(req.body);
      if (typeof items === 'string') throw new HttpError(400, HttpCode.BAD_REQUEST, `not an OTLP logs request: ${items}`);
      const conn = admit();
      const lines: InputLine[] = items.map((it, i) =>
        it.event
          ? { bytes: Buffer.from(JSON.stringify(it.event)), line: i + 1 }
          : { bytes: Buffer.from(JSON.stringify(it.raw) ?? 'null'), line: i + 1, rejectAs: RejectCode.NOT_OBJECT },
      );
      const token = req.caller!.name;
      const r = await run(lines, (line) => ({ kind: 'otlp', conn, line, token }));
      if (!r.rejected.length) return {};
      const first = r.rejected[0]!;
      return {
        partialSuccess: {
          rejectedLogRecords: r.rejected.length,
          errorMessage: `${r.rejected.length} log record(s) sealed to the dead letter; the first (#${first.line}): ${first.code} ${first.reason}`,
        },
      };
    },
  );
}
