import type { Draft, JsonObject, JsonValue } from '../types.js';
import { fieldRanks, firstText, own, text } from './fields.js';

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
const WHO = fieldRanks(['agent_id', 'agent_name', 'categorized_by', 'actor', 'user_id', 'agent_from', 'logger_name', 'logger', 'service_name']);
const WHERE = fieldRanks(['hostname', 'instance_id', 'service_name', 'source', 'namespace', 'environment']);
const WHEN = ['timestamp', 'time', 'ts', 'created_at'] as const;

function when(e: JsonObject): string | undefined {
  for (const n of WHEN) {
    const v = own(e, n);
    if (typeof v === 'string' && v) return v;
    // pino's `time` is epoch milliseconds
    if (typeof v === 'number' && Number.isFinite(v) && v > 1e11 && v < 1e14) return new Date(v).toISOString();
  }
  return undefined;
}

/** GAMP 5 software category, where the event states one (1..5). */
function gampCategory(e: JsonObject): number | undefined {
  const v = own(e, 'gamp_category') ?? own(own(e, 'payload'), 'gamp_category');
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 5 ? n : undefined;
}

/**
 * The built-in classification for the field shapes of DESIGN §6: LlamaIndex
 * workflow events, the omninode envelope (application/audit/security), tool
 * hooks, whole-workflow ticket logs, structured and pino log lines.
 */
export function classifyDefault(d: Draft): void {
  const e = d.event;
  const payload = own(e, 'payload');
  const hook = text(own(e, 'hook_type'));
  const workflow = own(e, 'ticket_id') !== undefined && (own(e, 'trace') !== undefined || own(e, 'status') !== undefined);
  d.type =
    text(own(e, 'event_type')) ??
    text(own(e, 'type')) ??
    hook ??
    (workflow ? 'workflow_log' : undefined) ??
    (own(e, 'msg') !== undefined || own(e, 'message') !== undefined ? 'log' : 'event');
  const decision = text(own(payload, 'decision')) ?? text(own(e, 'decision'));
  const outcome = text(own(payload, 'outcome')) ?? text(own(e, 'outcome'));
  d.stream =
    streamOfType(d.type) ??
    (decision !== undefined ? 'security' : (own(payload, 'action') !== undefined && outcome !== undefined) || workflow ? 'audit' : 'application');
  d.level =
    normalizeLevel(own(e, 'level')) ??
    normalizeLevel(own(e, 'severity')) ??
    normalizeLevel(own(e, 'levelname')) ??
    normalizeLevel(own(payload, 'level')) ??
    (own(e, 'success') === false || text(own(e, 'error'))
      ? 'error'
      : /^(deny|denied|block)/i.test(decision ?? '') || /^fail/i.test(outcome ?? '')
        ? 'warn'
        : 'info');

  const meta: JsonObject = {};
  const hasPii = d.redactions.some((r) => r.kind.startsWith('pii:'));
  const hasSecret = d.redactions.some((r) => r.kind.startsWith('secret:'));
  meta.classification = hasPii ? 'pii' : hasSecret || d.stream === 'security' ? 'confidential' : 'internal';
  const gamp = gampCategory(e);
  if (gamp !== undefined) meta.gamp_category = gamp;
  const alcoa: JsonObject = {};
  const who = firstText(e, WHO);
  if (who) alcoa.who = who;
  const at = when(e);
  if (at) alcoa.when = at;
  const where = firstText(e, WHERE);
  if (where) alcoa.where = where;
  // A whole-workflow log summarizes other events: derived, not the original capture.
  alcoa.original = !workflow;
  meta.alcoa = alcoa;
  d.meta = meta;
}
