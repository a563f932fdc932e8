import type { Config } from '../config.js';
import { ErrorCode, SealogError } from '../errors.js';
import { configRegex } from '../redact/configRegex.js';
import type { Draft, JsonObject, JsonValue } from '../types.js';
import { at, compilePath } from './fields.js';

/**
 * A rule from config: when every `match` condition holds, `set` overrides the
 * classification. Keys of `match` are `event.<path>` (a field of the event),
 * or `type`, `stream`, `level`, `source.kind` (what classification decided so far).
 * A string condition is a regular expression; numbers, booleans and null must be
 * equal; `{exists: true|false}` tests presence.
 * Its type is the one the config schema describes.
 */
export type RuleConfig = Config['classify']['rules'][number];

type Test = (d: Draft) => boolean;

export function compileRules(rules: readonly RuleConfig[]): (d: Draft) => void {
  const compiled = rules.map((r, i) => {
    const tests = Object.entries(r.match).map(([key, cond]) => compileCondition(key, cond, r.name ?? `rule ${i + 1}`));
    return { tests, set: r.set };
  });
  return (d) => {
    for (const r of compiled) {
      if (!r.tests.every((t) => t(d))) continue;
      const { stream, level, type, classification, gamp_category, original } = r.set;
      if (stream) d.stream = stream;
      if (level) d.level = level;
      if (type) d.type = type;
      const meta = (d.meta ??= {});
      if (classification) meta.classification = classification;
      if (gamp_category !== undefined) meta.gamp_category = gamp_category;
      if (original !== undefined) ((meta.alcoa ??= {}) as JsonObject).original = original;
    }
  };
}

function compileCondition(key: string, cond: RuleConfig['match'][string], rule: string): Test {
  const get = getter(key, rule);
  if (cond !== null && typeof cond === 'object') return (d) => (get(d) !== undefined) === cond.exists;
  if (typeof cond === 'string') {
    let re: RegExp;
    try {
      re = configRegex(cond);
    } catch (err) {
      throw new SealogError(ErrorCode.CONFIG_INVALID, `classify ${rule}: ${key}: ${(err as Error).message}`);
    }
    return (d) => {
      const v = get(d);
      return (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') && re.test(String(v));
    };
  }
  return (d) => get(d) === cond;
}

function getter(key: string, rule: string): (d: Draft) => JsonValue | undefined {
  if (key.startsWith('event.')) {
    const parts = compilePath(key);
    return (d) => at(d.event, parts);
  }
  switch (key) {
    case 'type':
      return (d) => d.type;
    case 'stream':
      return (d) => d.stream;
    case 'level':
      return (d) => d.level;
    case 'source.kind':
      return (d) => d.source.kind;
    default:
      throw new SealogError(ErrorCode.CONFIG_INVALID, `classify ${rule}: cannot match on '${key}' (use event.<path>, type, stream, level or source.kind)`);
  }
}
