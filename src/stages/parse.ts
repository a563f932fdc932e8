import { isUtf8 } from 'node:buffer';
import { RejectCode, RejectReason } from '../errors.js';
import { sha256Hex } from '../crypto/hash.js';
import type { Draft, JsonObject, RawLine } from '../types.js';

// V8 quotes the input around the error (`Unexpected token 'o', ..."ssword": hu"... is not valid JSON`).
// The reason goes to the client's ack as it is, and a quote cut mid-secret is something no
// redaction pattern recognizes: the reason names the error only; `raw` keeps the input (redacted).
const INPUT_ECHO = /, (?:\.\.\.)?"[\s\S]*"(?:\.\.\.)? is not valid JSON$/;

/**
 * parse: a framed line becomes an event, or a dead-letter entry that keeps the
 * raw bytes (as text when they are UTF-8, else base64) with the coded reason.
 */
export function parse(raw: RawLine): Draft {
  if (raw.system) return raw.system;
  const { bytes, source, ack } = raw;
  if (raw.rejectAs) return reject(raw, raw.rejectAs, RejectReason[raw.rejectAs]);
  if (raw.oversize) return reject(raw, RejectCode.LINE_TOO_LONG, `${RejectReason.E_LINE_TOO_LONG} (${raw.oversize.length} bytes)`);
  // A line the sender never finished is named as such, not as bad JSON or a cut character.
  const cut = () => reject(raw, RejectCode.TRUNCATED_LINE, RejectReason.E_TRUNCATED_LINE);
  if (!isUtf8(bytes)) return raw.unterminated ? cut() : reject(raw, RejectCode.INVALID_UTF8, RejectReason.E_INVALID_UTF8);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    if (raw.unterminated) return cut();
    return reject(raw, RejectCode.INVALID_JSON, `${RejectReason.E_INVALID_JSON}: ${(err as Error).message.replace(INPUT_ECHO, '')}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return reject(raw, RejectCode.NOT_OBJECT, RejectReason.E_NOT_OBJECT);
  }
  return { source, ack, event: value as JsonObject, redactions: [] };
}

export function reject(raw: RawLine, code: string, reason: string): Draft {
  // An oversize head may end mid-character; then it is kept as base64 like any non-UTF-8 input.
  const utf8 = isUtf8(raw.bytes);
  const event: JsonObject = {
    code,
    reason,
    raw: utf8 ? raw.bytes.toString('utf8') : raw.bytes.toString('base64'),
    raw_encoding: utf8 ? 'utf8' : 'base64',
    raw_bytes: raw.oversize ? raw.oversize.length : raw.bytes.length,
    raw_sha256: raw.oversize ? raw.oversize.sha256 : sha256Hex(raw.bytes),
    truncated: raw.oversize !== undefined,
  };
  return { source: raw.source, ack: raw.ack, event, rejected: { code, reason }, redactions: [] };
}
