import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { loadHmacKey } from '../../crypto/keyFiles.js';
import { ErrorCode, HttpCode, SealogError } from '../../errors.js';
import { filterFromParams, type Filter } from '../../read/filter.js';
import { inclusionBundle } from '../../read/proofs.js';
import { query } from '../../read/query.js';
import { entryBundle, parseTilePath, tileBytes, tileWidth } from '../../read/tiles.js';
import type { Trail } from '../../read/trail.js';
import type { HttpContext } from '../context.js';
import { ReadGate } from '../readGate.js';
import { errorResponses, HttpError } from '../httpError.js';

/** One JSON page at most; an NDJSON stream has no cap (it is streamed, never buffered). */
const MAX_PAGE = 1000;
const NDJSON = 'application/x-ndjson';
const IMMUTABLE = 'public, max-age=31536000, immutable';

const text = { type: 'string', minLength: 1, maxLength: 1024 } as const;
const texts = { type: 'array', maxItems: 32, items: text } as const;
export const recordsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    since: text,
    until: text,
    stream: texts,
    type: texts,
    field: texts,
    pseudonym: texts,
    level: { enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] },
    text,
    seq_from: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    seq_to: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    limit: { type: 'integer', minimum: 1, description: `records per page (JSON: at most ${MAX_PAGE}, default 100; NDJSON: no default, streamed)` },
    cursor: { type: 'string', pattern: '^[0-9]{1,16}$', description: 'next_cursor of the previous page' },
    reverse: { type: 'boolean', default: false },
  },
} as const;
const record = { type: 'object', additionalProperties: true } as const;
const bundle = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    type: { const: 'sealog.inclusion.v1' },
    origin: { type: 'string' },
    leaf_index: { type: 'integer' },
    tree_size: { type: 'integer' },
    record: { type: 'string' },
    proof: { type: 'array', items: { type: 'string' } },
    checkpoint: { type: 'string' },
  },
} as const;

/** The read-side errors as HTTP answers: a bad filter is the caller's; a record that fails its check is the log's. */
function asHttp(err: unknown): unknown {
  if (!(err instanceof SealogError) || err instanceof HttpError) return err;
  if (err.code === ErrorCode.USAGE) return new HttpError(400, HttpCode.BAD_REQUEST, err.message.replace(/--(\w+)/g, '$1')); // the CLI's flags are the API's parameters
  if (err.code === ErrorCode.INTEGRITY) return new HttpError(500, HttpCode.INTEGRITY, `${err.message} (run sealog verify)`);
  if (err.code === ErrorCode.NOT_SEALED) return new HttpError(404, HttpCode.NOT_FOUND, err.message);
  return err;
}

/** The trail through the API: records (search, one with its proof), the checkpoint and the C2SP tiles, on src/read. */
export function registerReadRoutes(app: FastifyInstance, ctx: HttpContext, trail: Trail): void {
  const gate = new ReadGate(ctx.cfg.http.max_concurrent_reads, ctx.cfg.http.max_read_queue);
  // Proofs and hash tiles share the trail's cache of tree hashes, which is not safe to grow from two
  // requests at once while the log grows (a proof then fails to reach the signed root): one at a time.
  const treeGate = new ReadGate(1, ctx.cfg.http.max_read_queue);
  ctx.status.section('http_reads', () => gate.figures);
  const filterOf = async (q: Record<string, unknown>): Promise<Filter> => {
    const params: Record<string, string | string[] | undefined> = {};
    for (const k of ['since', 'until', 'stream', 'type', 'level', 'field', 'text', 'pseudonym', 'seq_from', 'seq_to']) {
      const v = q[k];
      if (v !== undefined) params[k] = Array.isArray(v) ? v.map(String) : String(v);
    }
    // The HMAC key is read only for a pseudonym criterion, and wiped once the pseudonyms are made.
    const key = params.pseudonym ? await loadHmacKey(ctx.layout) : undefined;
    try {
      return filterFromParams(params, { hmacKey: key && (() => key) });
    } finally {
      key?.fill(0);
    }
  };

  app.get(
    '/api/v1/records',
    {
      config: { access: 'read', audited: true },
      schema: {
        summary: 'Search the trail: the filters of sealog query, cursor-paged; NDJSON of the stored lines with Accept: application/x-ndjson',
        querystring: recordsQuery,
        produces: ['application/json', NDJSON],
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['records', 'next_cursor'],
            properties: { records: { type: 'array', items: record }, next_cursor: { type: ['string', 'null'] } },
          },
          ...errorResponses,
        },
      },
    },
    (req, reply) =>
      gate.run(async () => {
        const q = req.query as { limit?: number; cursor?: string; reverse: boolean } & Record<string, unknown>;
        const filter = await filterOf(q).catch((err) => Promise.reject(asHttp(err)));
        const after = q.cursor === undefined ? undefined : Number(q.cursor);
        if (after !== undefined && !Number.isSafeInteger(after)) throw new HttpError(400, HttpCode.BAD_REQUEST, 'cursor is not one this API gave');
        const ndjson = (req.headers.accept ?? '').includes(NDJSON);
        if (ndjson) {
          // The read's slot is held until the stream ends: a stream is a read like any other.
          streamLines(reply, query(trail, { filter, limit: q.limit, reverse: q.reverse, after }), ctx.cfg.http.idle_timeout_ms);
          await finished(reply.raw).catch(() => {});
          return reply;
        }
        const limit = q.limit ?? 100;
        if (limit > MAX_PAGE)
          throw new HttpError(400, HttpCode.BAD_REQUEST, `limit is at most ${MAX_PAGE} per JSON page (use Accept: ${NDJSON} to stream more)`);
        // One more than the page: whether there is a next page is known without a second query.
        const lines: Buffer[] = [];
        let last = -1;
        let more = false;
        try {
          for await (const r of query(trail, { filter, limit: limit + 1, reverse: q.reverse, after })) {
            if (lines.length === limit) {
              more = true;
              break;
            }
            lines.push(Buffer.from(r.line));
            last = r.seq;
          }
        } catch (err) {
          throw asHttp(err);
        }
        // The stored lines are JSON objects already: the page is built from them, not parsed and serialized again.
        const body = Buffer.concat([
          Buffer.from('{"records":['),
          ...lines.flatMap((l, i) => (i ? [Buffer.from(','), l] : [l])),
          Buffer.from(`],"next_cursor":${more ? `"${last}"` : 'null'}}`),
        ]);
        return reply.type('application/json; charset=utf-8').send(body);
      }),
  );

  app.get(
    '/api/v1/records/:seq',
    {
      config: { access: 'read', audited: true },
      schema: {
        summary: 'One record, its stored line and its inclusion proof (DESIGN §10 bundle) against the newest checkpoint covering it',
        params: {
          type: 'object',
          additionalProperties: false,
          required: ['seq'],
          properties: { seq: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } },
        },
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['record', 'line', 'proof'],
            properties: { record, line: { type: 'string' }, proof: bundle, unsealed: { type: 'string' } },
          },
          ...errorResponses,
        },
      },
    },
    (req) =>
      gate.run(async () => {
        const seq = (req.params as { seq: number }).seq;
        try {
          const b = await treeGate.run(() => inclusionBundle(trail, seq));
          return { record: JSON.parse(b.record) as object, line: b.record, proof: b };
        } catch (err) {
          if (!(err instanceof SealogError) || err.code !== ErrorCode.NOT_SEALED) throw asHttp(err);
          // Committed but after the newest checkpoint: the record, and why there is no proof yet.
          for await (const r of query(trail, { filter: { ...(await filterOf({})), seqFrom: seq, seqTo: seq } })) {
            const line = Buffer.from(r.line).toString('utf8');
            return { record: JSON.parse(line) as object, line, proof: null, unsealed: err.message };
          }
          throw new HttpError(404, HttpCode.NOT_FOUND, `no record ${seq} in the trail`);
        }
      }),
  );

  app.get(
    '/api/v1/checkpoint',
    {
      config: { access: 'read', audited: true },
      schema: {
        summary: 'The newest signed checkpoint (C2SP tlog-checkpoint note); the tiles below are served against it',
        produces: ['text/plain'],
        response: { 200: { type: 'string' }, ...errorResponses },
      },
    },
    async (_req, reply) => {
      const cp = await trail.newestCheckpoint();
      if (!cp) throw new HttpError(404, HttpCode.NOT_FOUND, 'no checkpoint yet: the log is empty');
      return reply.header('Cache-Control', 'no-cache').type('text/plain; charset=utf-8').send(cp.text);
    },
  );

  app.get(
    '/api/v1/tile/*',
    {
      config: { access: 'read', audited: true },
      schema: {
        summary: 'C2SP tlog-tiles: tile/<L>/<N>[.p/<W>] (hashes) and tile/entries/<N>[.p/<W>] (stored lines); full tiles are immutable',
        params: { type: 'object', properties: { '*': { type: 'string', maxLength: 64 } } },
        produces: ['application/octet-stream'],
        response: { 200: { type: 'string', format: 'binary' }, ...errorResponses },
      },
    },
    (req, reply) =>
      gate.run(async () => {
        const ref = parseTilePath(`tile/${(req.params as { '*': string })['*']}`);
        if (!ref)
          throw new HttpError(404, HttpCode.NOT_FOUND, 'not a tile path (tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>], N in groups of three digits)');
        const cp = await trail.newestCheckpoint();
        const have = cp ? tileWidth(cp.size, ref.level, ref.n) : 0;
        if (ref.width > have)
          throw new HttpError(
            404,
            HttpCode.NOT_FOUND,
            `the newest checkpoint (tree size ${cp?.size ?? 0}) has ${have ? `only ${have} entries in this tile` : 'no such tile'}`,
          );
        try {
          const bytes =
            ref.level === 'entries'
              ? await entryBundle(trail, ref.n, ref.width)
              : await treeGate.run(() => tileBytes(trail, ref.level as number, ref.n, ref.width));
          // A full tile never changes; a partial one at a given width never changes either, but is superseded soon.
          return reply
            .header('Cache-Control', ref.width === 256 ? IMMUTABLE : 'public, max-age=60')
            .type('application/octet-stream')
            .send(bytes);
        } catch (err) {
          throw asHttp(err);
        }
      }),
  );
}

/** Stored lines as NDJSON, pulled from the query as the client reads: backpressure all the way, nothing buffered. */
function streamLines(reply: FastifyReply, records: AsyncGenerator<{ line: Uint8Array }>, stallMs: number): FastifyReply {
  async function* lines() {
    for await (const r of records) yield Buffer.concat([r.line, Buffer.from('\n')]);
  }
  const stream = Readable.from(lines(), { objectMode: false, highWaterMark: 64 * 1024 });
  // A record failing its check mid-stream cannot change the status any more: the stream is cut, so the client sees an incomplete body, never a bad record.
  stream.on('error', () => reply.raw.destroy());
  // A client that stops reading: nothing left the socket for stallMs while the response waited to drain.
  let sent = -1;
  const watch = setInterval(() => {
    const now = reply.raw.socket?.bytesWritten ?? 0;
    if (reply.raw.writableNeedDrain && now === sent) reply.raw.destroy();
    sent = now;
  }, stallMs).unref();
  reply.raw.once('close', () => clearInterval(watch));
  return reply.type(`${NDJSON}; charset=utf-8`).send(stream);
}
