import { jcs } from '../crypto/canonical.js';
import { LEVELS, levelRank, type Filter } from '../read/filter.js';

/**
 * DESIGN §10's filters as SQL over sealog_records, meaning exactly what they mean to
 * `sealog query` on a data directory (read/filter.ts): since ≤ ts < until to the µs, inclusive
 * seq range, streams and type globs OR'd, level and above, field paths from the record's
 * root compared as JSON (a path through an array matches nothing), text and pseudonyms as
 * substrings of the stored line. Every value is a bound parameter. Field criteria under
 * `event` also add a JSONB containment test, which the GIN index serves.
 */
export function filterSql(f: Filter, origin: string | undefined, first = 1): { where: string; params: unknown[] } {
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${first + params.length - 1}`;
  };
  const and: string[] = [];
  if (origin !== undefined) and.push(`origin = ${p(origin)}`);
  if (f.since !== undefined) and.push(`ts >= ${p(isoMicros(Math.round(f.since * 1000)))}::timestamptz`);
  if (f.until !== undefined) and.push(`ts < ${p(isoMicros(Math.round(f.until * 1000)))}::timestamptz`);
  if (f.seqFrom !== undefined) and.push(`seq >= ${p(f.seqFrom)}`);
  if (f.seqTo !== undefined) and.push(`seq <= ${p(f.seqTo)}`);
  if (f.streams.length) and.push(`stream = ANY(${p(f.streams)}::text[])`);
  if (f.types.length) and.push(`(${f.types.map((g) => `type LIKE ${p(globToLike(g))} ESCAPE '\\'`).join(' OR ')})`);
  if (f.level !== undefined) and.push(`level = ANY(${p(LEVELS.slice(levelRank(f.level)))}::text[])`);
  for (const fm of f.fields) {
    const parts = fm.path.split('.');
    const [base, rest] = parts[0] === 'event' ? ['event', parts.slice(1)] : ['(line::jsonb)', parts];
    // Each step must be an object's own member: jsonb's #> would also index into arrays.
    for (let i = 0; i < rest.length; i++) and.push(`jsonb_typeof(${base} #> ${p(rest.slice(0, i))}::text[]) = 'object'`);
    and.push(`${base} #> ${p(rest)}::text[] = ${p(jcs(fm.value))}::jsonb`);
    if (base === 'event' && rest.length) and.push(`event @> ${p(JSON.stringify(nest(rest, fm.value)))}::jsonb`);
  }
  if (f.text !== undefined) and.push(`strpos(line, ${p(f.text)}) > 0`);
  if (f.pseudonyms.length) and.push(`(${f.pseudonyms.map((s) => `strpos(line, ${p(s)}) > 0`).join(' OR ')})`);
  return { where: and.length ? and.join(' AND ') : 'true', params };
}

/** `Agent*Event` → `Agent%Event`: * any run, ? one character; LIKE's own wildcards escaped. */
export function globToLike(glob: string): string {
  return glob
    .replace(/[\\%_]/g, '\\$&')
    .replace(/\*/g, '%')
    .replace(/\?/g, '_');
}

/** µs since the epoch → RFC 3339 with six fraction digits, as records are stamped. */
function isoMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  const micro = ((us % 1_000_000) + 1_000_000) % 1_000_000;
  return `${new Date(ms).toISOString().slice(0, 19)}.${String(micro).padStart(6, '0')}Z`;
}

/** {a:{b:value}} for the path a.b: the containment document the GIN index can answer. */
function nest(path: string[], value: unknown): unknown {
  return path.reduceRight<unknown>((v, k) => ({ [k]: v }), value);
}
