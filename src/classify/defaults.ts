import type { Draft, JsonObject, JsonValue } from '../types.js';
import { fieldReader, type FieldValues, text } from './fields.js';

export type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

// Decided once: every spelling we accept, mapped to one normalized level.
const LEVEL_NAMES: Record<string, Level> = {
  trace: 'trace',
  debug: 'debug',
  dbg: 'debug',
  verbose: 'debug',
  info: 'info',
  information: 'info',
  informational: 'info',
  notice: 'info',
  warn: 'warn',
  warning: 'warn',
  err: 'error',
  error: 'error',
  exception: 'error',
  fatal: 'fatal',
  critical: 'fatal',
  crit: 'fatal',
  alert: 'fatal',
  emerg: 'fatal',
  emergency: 'fatal',
  panic: 'fatal',
};

/** Names (any case), numeric pino levels (10..60) and syslog severities (0..7). */
export function normalizeLevel(v: JsonValue | undefined): Level | undefined {
  if (typeof v === 'string') return LEVEL_NAMES[v.toLowerCase()];
  if (typeof v === 'number') {
    if (v >= 10) return v >= 60 ? 'fatal' : v >= 50 ? 'error' : v >= 40 ? 'warn' : v >= 30 ? 'info' : v >= 20 ? 'debug' : 'trace';
    if (Number.isInteger(v) && v >= 0 && v <= 7) return (['fatal', 'fatal', 'fatal', 'error', 'warn', 'info', 'info', 'debug'] as const)[v];
  }
  return undefined;
}

// GxP decisions and results are audit facts; access decisions are security facts.
const AUDIT_TYPE = /audit|gamp|validation|approval|signature|review|categorization/i;
const SECURITY_TYPE = /security|auth|access|permission|login/i;
const typeStream = new Map<string, string | undefined>();
function streamOfType(type: string): string | undefined {
  let s = typeStream.get(type);
  if (s === undefined && !typeStream.has(type)) {
    s = SECURITY_TYPE.test(type) ? 'security' : AUDIT_TYPE.test(type) ? 'audit' : undefined;
    if (typeStream.size < 4096) typeStream.set(type, s); // bounded: hostile input cannot grow it
  }
  return s;
}

// ALCOA+ "attributable": who acted, in the field names the known shapes use, most specific first.
const WHO = ['agent_id', 'agent_name', 'categorized_by', 'actor', 'user_id', 'agent_from', 'logger_name', 'logger', 'service_name'] as const;
const WHERE = ['hostname', 'instance_id', 'service_name', 'source', 'namespace', 'environment'] as const;
const WHEN = ['timestamp', 'time', 'ts', 'created_at'] as const;
// Every field the defaults look at, in the event or its payload, read in one pass over each.
const FIELDS = fieldReader([
  ...['hook_type', 'ticket_id', 'trace', 'status', 'event_type', 'type', 'msg', 'message', 'decision', 'outcome', 'action'],
  ...['level', 'severity', 'levelname', 'success', 'error', 'gamp_category'],
  ...WHO,
  ...WHERE,
  ...WHEN,
] as const);
const F = FIELDS.slot;
const WHO_SLOTS = WHO.map((n) => F[n]);
const WHERE_SLOTS = WHERE.map((n) => F[n]);
const WHEN_SLOTS = WHEN.map((n) => F[n]);

/** The first non-empty string among the slots, in their order; at one slot the event's own field before its payload's. */
function firstText({ event, payload }: FieldValues, slots: readonly number[]): string | undefined {
  for (const i of slots) {
    const v = text(event[i]) ?? text(payload[i]);
    if (v !== undefined) return v;
  }
  return undefined;
}

function when(event: FieldValues['event']): string | undefined {
  for (const i of WHEN_SLOTS) {
    const v = event[i];
    if (typeof v === 'string' && v) return v;
    // pino's `time` is epoch milliseconds
    if (typeof v === 'number' && Number.isFinite(v) && v > 1e11 && v < 1e14) return new Date(v).toISOString();
  }
  return undefined;
}

/** GAMP 5 software category, where the event states one (1..5). */
function gampCategory(v: JsonValue | undefined): number | undefined {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 5 ? n : undefined;
}

/**
 * The built-in classification for the field shapes of DESIGN §6: LlamaIndex
 * workflow events, the omninode envelope (application/audit/security), tool
 * hooks, whole-workflow ticket logs, structured and pino log lines.
 */
export function classifyDefault(d: Draft): void {
  const fields = FIELDS.read(d.event);
  const { event: e, payload: p } = fields;
  const hook = text(e[F.hook_type]);
  const workflow = e[F.ticket_id] !== undefined && (e[F.trace] !== undefined || e[F.status] !== undefined);
  d.type =
    text(e[F.event_type]) ??
    text(e[F.type]) ??
    hook ??
    (workflow ? 'workflow_log' : undefined) ??
    (e[F.msg] !== undefined || e[F.message] !== undefined ? 'log' : 'event');
  const decision = text(p[F.decision]) ?? text(e[F.decision]);
  const outcome = text(p[F.outcome]) ?? text(e[F.outcome]);
  d.stream =
    streamOfType(d.type) ?? (decision !== undefined ? 'security' : (p[F.action] !== undefined && outcome !== undefined) || workflow ? 'audit' : 'application');
  d.level =
    normalizeLevel(e[F.level]) ??
    normalizeLevel(e[F.severity]) ??
    normalizeLevel(e[F.levelname]) ??
    normalizeLevel(p[F.level]) ??
    (e[F.success] === false || text(e[F.error]) ? 'error' : /^(deny|denied|block)/i.test(decision ?? '') || /^fail/i.test(outcome ?? '') ? 'warn' : 'info');

  const meta: JsonObject = {};
  const hasPii = d.redactions.some((r) => r.kind.startsWith('pii:'));
  const hasSecret = d.redactions.some((r) => r.kind.startsWith('secret:'));
  meta.classification = hasPii ? 'pii' : hasSecret || d.stream === 'security' ? 'confidential' : 'internal';
  const gamp = gampCategory(e[F.gamp_category] ?? p[F.gamp_category]);
  if (gamp !== undefined) meta.gamp_category = gamp;
  const alcoa: JsonObject = {};
  const who = firstText(fields, WHO_SLOTS);
  if (who) alcoa.who = who;
  const at = when(e);
  if (at) alcoa.when = at;
  const where = firstText(fields, WHERE_SLOTS);
  if (where) alcoa.where = where;
  // A whole-workflow log summarizes other events: derived, not the original capture.
  alcoa.original = !workflow;
  meta.alcoa = alcoa;
  d.meta = meta;
}
