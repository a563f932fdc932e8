import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HttpCode, SealogError } from '../errors.js';
import type { Logger } from '../log.js';

/** An error the API answers with: a status, a code from errors.ts, a message, maybe headers (Retry-After). */
export class HttpError extends SealogError {
  constructor(
    readonly status: number,
    code: HttpCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(code, message);
  }
}

/** The one error body of every route: {"error":{"code":"E_…","message":"…"}}. */
export const errorSchema = {
  $id: 'HttpError',
  type: 'object',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      additionalProperties: false,
      properties: { code: { type: 'string', pattern: '^E_[A-Z0-9_]+$' }, message: { type: 'string' } },
    },
  },
} as const;

/** Error responses every route may give, for its response schema. */
export const errorResponses = { '4xx': { $ref: 'HttpError#' }, '5xx': { $ref: 'HttpError#' } } as const;

/** Fastify's own errors (body, media type, validation) mapped to our codes; anything unknown is a 500 whose detail goes to the log only. */
export function toHttpError(err: FastifyError | Error, log: Logger): HttpError {
  if (err instanceof HttpError) return err;
  const e = err as FastifyError;
  if (e.validation) return new HttpError(400, HttpCode.BAD_REQUEST, `${e.validationContext ?? 'request'}${e.message.replace(/^[a-z]+/, '')}`);
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError(413, HttpCode.BODY_TOO_LARGE, 'request body is larger than http.max_body_bytes');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpError(415, HttpCode.UNSUPPORTED_MEDIA_TYPE, e.message);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new HttpError(400, HttpCode.BAD_JSON, e.message);
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HttpError(400, HttpCode.BAD_REQUEST, e.message);
  }
  if (err instanceof SyntaxError || (e.statusCode === 400 && /JSON/i.test(e.message)))
    return new HttpError(400, HttpCode.BAD_JSON, `body is not valid JSON: ${e.message}`);
  if (e.statusCode === 404) return new HttpError(404, HttpCode.NOT_FOUND, e.message);
  if (e.statusCode === 408) return new HttpError(408, HttpCode.TIMEOUT, e.message);
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return new HttpError(e.statusCode, HttpCode.BAD_REQUEST, e.message);
  log.error({ err }, 'HTTP request failed');
  return new HttpError(500, HttpCode.INTERNAL, 'internal error (details in the daemon log)');
}

export function sendError(reply: FastifyReply, err: HttpError): FastifyReply {
  return reply
    .code(err.status)
    .headers(err.headers)
    .type('application/json; charset=utf-8')
    .send({ error: { code: err.code, message: err.message } });
}

export function notFound(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendError(reply, new HttpError(404, HttpCode.NOT_FOUND, `no route ${req.method} ${req.url.split('?')[0]}`));
}
