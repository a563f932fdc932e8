/**
 * The query filter model (DESIGN §10), shared by every reader: the CLI (`sealog query`),
 * the HTTP API (`GET /api/v1/records`), reports, and the collector's SQL.
 *
 * Exported API
 * - `Filter`: plain data, every criterion ANDed; an absent or empty criterion matches all.
 *     since / until   ms since the epoch (fractional for µs), on the record's `ts`: since ≤ ts < until
 *     seqFrom / seqTo  inclusive seq range
 *     streams          OR: the record's `stream` is one of them
 *     types            OR: globs on `type` (`*` any run, `?` one character, anchored, case-sensitive)
 *     level            this level or more severe (trace < debug < info < warn < error < fatal)
 *     fields           AND: the value at the dotted path from the record's root (`event.correlation_id`)
 *                      equals `value` (JSON equality; a path through an array matches nothing)
 *     text             substring of the stored line (its UTF-8 bytes, case-sensitive)
 *     pseudonyms       OR: the stored line contains one of these pseudonym strings (`pii:email:<24 hex>`)
 * - `filterFromFlags(flags, ctx)`: the CLI's flags (`--since 2h`, `--seq 5..9`, `--field p=v`,
 *   `--pseudonym email:ann@example.com`, …) → Filter; `filterFromParams(params, ctx)`: the same
 *   from HTTP query parameters (`since`, `until`, `seq_from`, `seq_to`, `stream`, `type`, `level`,
 *   `field`, `text`, `pseudonym`; repeatable ones as arrays). Bad input: SealogError E_USAGE.
 * - `compileFilter(filter)` → `CompiledFilter` once per query: `test(line)` decides on the
 *   stored line (bytes) alone; `needles` are byte strings every matching line contains (a frame
 *   without them is skipped undecoded-further); `fieldTokens` are what the index's bloom filter holds.
 * - `matches(filter, record, line)`: the predicate on one record (parsed) and its stored line.
 * - `pseudonymFor(spec, hmacKey)`: `email:ann@example.com` → `pii:email:<24 hex>`, computed exactly
 *   as sanitize does (the kind's normalization, then the keyed HMAC of src/crypto/pseudonym.ts).
 * - `tsMicros(ts)`: a record's `ts` (ISO 8601 UTC, µs) as µs since the epoch.
 * - `LEVELS`, `levelRank(level)`.
 */
import { jcs } from '../crypto/canonical.js';
import { createPseudonymizer } from '../crypto/pseudonym.js';
import { own } from '../classify/fields.js';
import { ErrorCode, SealogError } from '../errors.js';
import { KINDS } from '../redact/kinds.js';
import type { JsonValue } from '../types.js';

export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type Level = (typeof LEVELS)[number];
export const levelRank = (l: string): number => LEVELS.indexOf(l as Level);

export interface FieldMatch {
  path: string;
  value: JsonValue;
}

export interface Filter {
  since?: number;
  until?: number;
  seqFrom?: number;
  seqTo?: number;
  streams: string[];
  types: string[];
  level?: Level;
  fields: FieldMatch[];
  text?: string;
  pseudonyms: string[];
}

export const emptyFilter = (): Filter => ({ streams: [], types: [], fields: [], pseudonyms: [] });

const usage = (message: string) => new SealogError(ErrorCode.USAGE, message);

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** RFC 3339 (fractions to the µs), a date alone (midnight UTC), or relative to now: `15m`, `2h`, `7d`. */
export function parseTime(text: string, now: number, flag: string): number {
  const rel = /^(\d+)([smhdw])$/.exec(text);
  if (rel) return now - Number(rel[1]) * UNITS[rel[2]!]!;
  const day = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text;
  const m = RFC3339.exec(day);
  const ms = m ? Date.parse(`${m[1]}T${m[2]}${m[4]!.toUpperCase()}`) : NaN;
  if (!m || Number.isNaN(ms)) throw usage(`${flag} ${JSON.stringify(text)} is neither RFC 3339 (2026-11-23T10:00:00Z) nor relative (15m, 2h, 7d)`);
  const frac = m[3] ? Number(`0${m[3]}`.slice(0, 8)) * 1000 : 0; // to the µs, as records are stamped
  return ms + Math.round(frac * 1000) / 1000;
}

/** A record's ts, `2026-11-23T10:00:00.123456Z`, as µs since the epoch (NaN when it is not one). */
export function tsMicros(ts: string): number {
  const ms = Date.parse(ts.length > 24 ? `${ts.slice(0, 23)}Z` : ts);
  const micro = ts.length > 24 ? Number(ts.slice(23, -1).padEnd(3, '0').slice(0, 3)) : 0;
  return ms * 1000 + micro;
}

function parseSeq(text: string): { seqFrom?: number; seqTo?: number } {
  const m = /^(\d*)\.\.(\d*)$/.exec(text) ?? /^(\d+)()$/.exec(text);
  if (!m || (m[1] === '' && m[2] === '')) throw usage(`--seq ${JSON.stringify(text)} must be A..B, A.., ..B or N`);
  const from = m[1] === '' ? undefined : Number(m[1]);
  const to = m[2] === '' ? (text.includes('..') ? undefined : from) : Number(m[2]);
  if ((from !== undefined && !Number.isSafeInteger(from)) || (to !== undefined && !Number.isSafeInteger(to))) throw usage(`--seq ${text}: not a seq`);
  if (from !== undefined && to !== undefined && to < from) throw usage(`--seq ${text}: the end is before the start`);
  return { seqFrom: from, seqTo: to };
}

function parseField(text: string): FieldMatch {
  const eq = text.indexOf('=');
  const path = text.slice(0, eq);
  if (eq <= 0 || path.split('.').some((p) => p === ''))
    throw usage(`--field ${JSON.stringify(text)} must be PATH=VALUE with a dotted PATH (event.correlation_id=abc)`);
  const raw = text.slice(eq + 1);
  let value: JsonValue;
  try {
    value = JSON.parse(raw) as JsonValue;
  } catch {
    value = raw; // VALUE as JSON when it parses, else a string
  }
  return { path, value };
}

/**
 * `KIND:VALUE` → the pseudonym sanitize writes for it. KIND is a built-in type (`email`, `phone`,
 * `name`, …, class pii) or a full `pii:<type>` / `secret:<type>` kind for configured rules.
 */
export function pseudonymFor(spec: string, hmacKey: Buffer): string {
  const m = /^((?:pii|secret):[a-z0-9_]+|[a-z0-9_]+):(.+)$/s.exec(spec);
  if (!m) throw usage(`--pseudonym ${JSON.stringify(spec)} must be KIND:VALUE (email:ann@example.com)`);
  const kind = m[1]!.includes(':') ? m[1]! : `pii:${m[1]}`;
  const type = kind.slice(kind.indexOf(':') + 1);
  const info = Object.hasOwn(KINDS, type) ? (KINDS[type as keyof typeof KINDS] as { normalize?: (v: string) => string }) : undefined;
  if (!m[1]!.includes(':') && !info) throw usage(`--pseudonym: unknown kind '${m[1]}' (built-in: ${Object.keys(KINDS).join(', ')}; or give pii:<type>)`);
  return createPseudonymizer(hmacKey)(kind, info?.normalize ? info.normalize(m[2]!) : m[2]!);
}

export interface FlagValues {
  since?: string;
  until?: string;
  seq?: string;
  stream?: string[];
  type?: string[];
  level?: string;
  field?: string[];
  text?: string;
  pseudonym?: string[];
}

export interface FilterContext {
  now?: number;
  /** The HMAC key (keys/hmac.key), needed only by pseudonym criteria. */
  hmacKey?: () => Buffer;
}

/** The CLI's filter flags → Filter. */
export function filterFromFlags(v: FlagValues, ctx: FilterContext = {}): Filter {
  const now = ctx.now ?? Date.now();
  const f = emptyFilter();
  if (v.since !== undefined) f.since = parseTime(v.since, now, '--since');
  if (v.until !== undefined) f.until = parseTime(v.until, now, '--until');
  if (v.seq !== undefined) Object.assign(f, parseSeq(v.seq));
  f.streams = v.stream ?? [];
  f.types = v.type ?? [];
  for (const t of f.types) if (t === '') throw usage('--type needs a glob');
  if (v.level !== undefined) {
    if (levelRank(v.level) < 0) throw usage(`--level must be one of ${LEVELS.join(', ')}, not ${JSON.stringify(v.level)}`);
    f.level = v.level as Level;
  }
  f.fields = (v.field ?? []).map(parseField);
  if (v.text !== undefined) {
    if (v.text === '') throw usage('--text needs a non-empty string');
    f.text = v.text;
  }
  if (v.pseudonym?.length) {
    if (!ctx.hmacKey) throw usage('--pseudonym needs the HMAC key');
    const key = ctx.hmacKey();
    f.pseudonyms = v.pseudonym.map((p) => pseudonymFor(p, key));
  }
  return f;
}

/** HTTP query parameters → Filter: `since`, `until`, `seq_from`, `seq_to`, `stream`, `type`, `level`, `field`, `text`, `pseudonym`. */
export function filterFromParams(params: Record<string, string | string[] | undefined>, ctx: FilterContext = {}): Filter {
  const one = (k: string) => {
    const v = params[k];
    if (Array.isArray(v)) {
      if (v.length > 1) throw usage(`parameter ${k} may be given once`);
      return v[0];
    }
    return v;
  };
  const many = (k: string) => {
    const v = params[k];
    return v === undefined ? undefined : Array.isArray(v) ? v : [v];
  };
  const from = one('seq_from');
  const to = one('seq_to');
  const seq = from === undefined && to === undefined ? undefined : `${from ?? ''}..${to ?? ''}`;
  return filterFromFlags(
    {
      since: one('since'),
      until: one('until'),
      seq,
      stream: many('stream'),
      type: many('type'),
      level: one('level'),
      field: many('field'),
      text: one('text'),
      pseudonym: many('pseudonym'),
    },
    ctx,
  );
}

export interface CompiledFilter {
  readonly filter: Filter;
  /**
   * Decides on the stored line alone (parsing it only when a cheaper test could not).
   * `seq`, when the caller knows it (query does, from the record's place in its frame),
   * spares parsing the line for the seq range.
   */
  test(line: Buffer, seq?: number): boolean;
  /** The same decision when the caller has parsed the line already. */
  testRecord(record: Record<string, unknown>, line: Buffer): boolean;
  /** Every matching line contains each of these groups' members, at least one per group. */
  needles: Buffer[][];
  /** `path=JCS(value)` for each field criterion: what the index's value filter is asked. */
  fieldTokens: string[];
  /** The type matches one of the filter's globs (true when it has none). */
  typeMatches(type: string): boolean;
}

function globRegex(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}

/** A field token as the index stores it. */
export const fieldToken = (path: string, value: JsonValue) => `${path}=${jcs(value)}`;

export function compileFilter(filter: Filter): CompiledFilter {
  const types = filter.types.map(globRegex);
  const minLevel = filter.level ? levelRank(filter.level) : -1;
  const since = filter.since === undefined ? -Infinity : Math.round(filter.since * 1000);
  const until = filter.until === undefined ? Infinity : Math.round(filter.until * 1000);
  const fields = filter.fields.map((f) => ({ parts: f.path.split('.'), value: jcs(f.value) }));
  const text = filter.text === undefined ? undefined : Buffer.from(filter.text, 'utf8');
  const pseudonyms = filter.pseudonyms.map((p) => Buffer.from(p, 'utf8'));
  const streams = new Set(filter.streams);
  const needles: Buffer[][] = [];
  if (text) needles.push([text]);
  if (pseudonyms.length) needles.push(pseudonyms);
  // A value at a path appears in the JCS line as its JCS text (strings escaped the same way).
  for (const f of fields) needles.push([Buffer.from(f.value, 'utf8')]);
  if (streams.size) needles.push([...streams].map((s) => Buffer.from(`"stream":${JSON.stringify(s)}`)));
  const needsParse = streams.size > 0 || types.length > 0 || minLevel >= 0 || fields.length > 0 || filter.since !== undefined || filter.until !== undefined;
  const prepared = { types, minLevel, since, until, fields, streams };
  const hasNeedles = (line: Buffer) => needles.every((group) => group.some((n) => line.includes(n)));
  return {
    filter,
    needles,
    fieldTokens: filter.fields.map((f) => fieldToken(f.path, f.value)),
    typeMatches: (type) => !types.length || types.some((t) => t.test(type)),
    test(line, seq) {
      if (!hasNeedles(line)) return false;
      const seqs = filter.seqFrom !== undefined || filter.seqTo !== undefined;
      if (seq !== undefined && seqs && !((filter.seqFrom ?? 0) <= seq && seq <= (filter.seqTo ?? Infinity))) return false;
      if (!needsParse && (!seqs || seq !== undefined)) return true;
      return recordMatches(JSON.parse(line.toString('utf8')) as Record<string, JsonValue>, filter, prepared);
    },
    testRecord(record, line) {
      return hasNeedles(line) && recordMatches(record as Record<string, JsonValue>, filter, prepared);
    },
  };
}

interface Prepared {
  types: RegExp[];
  minLevel: number;
  since: number;
  until: number;
  fields: { parts: string[]; value: string }[];
  streams: Set<string>;
}

function recordMatches(r: Record<string, JsonValue>, f: Filter, p: Prepared): boolean {
  const seq = r.seq as number;
  if ((f.seqFrom !== undefined && seq < f.seqFrom) || (f.seqTo !== undefined && seq > f.seqTo)) return false;
  if (p.streams.size && !p.streams.has(r.stream as string)) return false;
  if (p.types.length && !(typeof r.type === 'string' && p.types.some((t) => t.test(r.type as string)))) return false;
  if (p.minLevel >= 0 && levelRank(r.level as string) < p.minLevel) return false;
  if (p.since !== -Infinity || p.until !== Infinity) {
    const ts = typeof r.ts === 'string' ? tsMicros(r.ts) : NaN;
    if (!(ts >= p.since && ts < p.until)) return false;
  }
  for (const fm of p.fields) {
    let v: JsonValue | undefined = r;
    for (const k of fm.parts) v = own(v, k);
    if (v === undefined || jcs(v) !== fm.value) return false;
  }
  return true;
}

/** The predicate on one record: `record` parsed from `line`, its stored line (bytes or text). */
export function matches(filter: Filter, record: Record<string, unknown>, line: Buffer | string): boolean {
  return compileFilter(filter).testRecord(record, Buffer.isBuffer(line) ? line : Buffer.from(line, 'utf8'));
}
