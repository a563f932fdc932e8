import { isUtf8 } from 'node:buffer';
import { RejectCode, RejectReason } from '../errors.js';
import { sha256Hex } from '../crypto/hash.js';
import { beforePartialToken, notText } from '../redact/rawBytes.js';
import type { Draft, JsonObject, RawLine, Redaction } from '../types.js';

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

/**
 * A dead-letter entry: the code and reason, and of the line what sanitize can scan with
 * confidence (rawBytes.ts): not text, nothing but its length; cut short, without its last,
 * partial token. Its SHA-256 only when the line is kept whole: a digest of bytes that were
 * not kept, or never scanned, would let anyone test guesses of a secret among them.
 */
export function reject(raw: RawLine, code: string, reason: string): Draft {
  const redactions: Redaction[] = [];
  let kept: Buffer | undefined = raw.bytes;
  if (notText(kept)) {
    kept = undefined;
    redactions.push({ path: 'event.raw', kind: 'not_text' });
  } else if (raw.oversize || raw.unterminated) {
    const n = beforePartialToken(kept);
    if (n < kept.length) {
      kept = kept.subarray(0, n);
      redactions.push({ path: 'event.raw', kind: 'cut_token' });
    }
  }
  const whole = kept === raw.bytes && !raw.oversize;
  // An oversize head may end mid-character; then it is kept as base64 like any non-UTF-8 input.
  const utf8 = kept !== undefined && isUtf8(kept);
  const event: JsonObject = {
    code,
    reason,
    raw: kept === undefined ? null : utf8 ? kept.toString('utf8') : kept.toString('base64'),
    raw_encoding: kept === undefined ? 'omitted' : utf8 ? 'utf8' : 'base64',
    raw_bytes: raw.oversize ? raw.oversize.length : raw.bytes.length,
    raw_sha256: whole ? sha256Hex(raw.bytes) : null,
    truncated: raw.oversize !== undefined,
  };
  return { source: raw.source, ack: raw.ack, event, rejected: { code, reason }, redactions };
}
