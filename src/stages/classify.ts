import type { Draft, JsonObject, JsonValue } from '../types.js';

export type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

// Decided once: every spelling we accept, mapped to one normalized level.
const LEVEL_NAMES: Record<string, Level> = {
  trace: 'trace', debug: 'debug', dbg: 'debug', verbose: 'debug',
  info: 'info', information: 'info', informational: 'info', notice: 'info',
  warn: 'warn', warning: 'warn',
  err: 'error', error: 'error', exception: 'error',
  fatal: 'fatal', critical: 'fatal', crit: 'fatal', alert: 'fatal', emerg: 'fatal', emergency: 'fatal', panic: 'fatal',
};

/** Numeric levels: pino (10..60) and syslog severities (0..7). */
export function normalizeLevel(v: JsonValue | undefined): Level | undefined {
  if (typeof v === 'string') return LEVEL_NAMES[v.toLowerCase()];
  if (typeof v === 'number') {
    if (v >= 10) return v >= 60 ? 'fatal' : v >= 50 ? 'error' : v >= 40 ? 'warn' : v >= 30 ? 'info' : v >= 20 ? 'debug' : 'trace';
    if (Number.isInteger(v) && v >= 0 && v <= 7) return (['fatal', 'fatal', 'fatal', 'error', 'warn', 'info', 'info', 'debug'] as const)[v];
  }
  return undefined;
}

function own(o: JsonValue | undefined, k: string): JsonValue | undefined {
  return o !== null && typeof o === 'object' && !Array.isArray(o) && Object.hasOwn(o, k) ? o[k] : undefined;
}
function text(v: JsonValue | undefined): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

const AUDIT_TYPE = /audit|gamp|validation|approval|signature|review/i;
const SECURITY_TYPE = /security|auth|access|permission|login/i;

// Event types repeat: the regex verdict per type is cached (bounded, so hostile input cannot grow it).
const typeStream = new Map<string, string | undefined>();
function streamOfType(type: string): string | undefined {
  let s = typeStream.get(type);
  if (s === undefined && !typeStream.has(type)) {
    s = SECURITY_TYPE.test(type) ? 'security' : AUDIT_TYPE.test(type) ? 'audit' : undefined;
    if (typeStream.size < 4096) typeStream.set(type, s);
  }
  return s;
}

/**
 * classify: stream, normalized level and type from the event's own fields.
 * These are the core defaults; configurable rules arrive with the sanitize/classify issue.
 * The draft is owned by the pipeline, so it is filled in place rather than copied.
 */
export function classify(draft: Draft): Draft {
  if (draft.rejected) {
    draft.stream = 'rejected';
    draft.level = 'warn';
    draft.type = 'sealog.rejected';
    return draft;
  }
  const e: JsonObject = draft.event;
  const payload = own(e, 'payload');
  const type =
    text(own(e, 'event_type')) ?? text(own(e, 'type')) ?? text(own(e, 'hook_type')) ??
    (own(e, 'ticket_id') !== undefined ? 'workflow_log' : undefined) ?? 'event';
  draft.type = type;
  draft.level =
    normalizeLevel(own(e, 'level')) ?? normalizeLevel(own(e, 'severity')) ?? normalizeLevel(own(e, 'levelname')) ??
    normalizeLevel(own(payload, 'level')) ?? (own(e, 'success') === false || own(e, 'error') ? 'error' : 'info');
  draft.stream =
    streamOfType(type) ??
    (own(payload, 'decision') !== undefined ? 'security' : own(payload, 'action') !== undefined && own(payload, 'outcome') !== undefined ? 'audit' : 'application');
  return draft;
}
