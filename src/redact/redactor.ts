import { ErrorCode, SealogError } from '../errors.js';
import type { Pseudonymizer } from '../crypto/pseudonym.js';
import { DETECTORS, type Detector } from './detectors.js';
import { builtinKeyType, compilePath } from './fields.js';
import { isCardNumber } from './checks.js';
import { BUILTIN_TYPES, defaultMask, KINDS, type Action, type KindClass, type KindInfo } from './kinds.js';
import { configRegex } from './configRegex.js';
import { compileScanner, type ScannerOptions, type Scan, type ScanIfClean, type Treatment } from './scanner.js';

/** The `redact` section of the config (see config/sealog.yaml). */
export interface RedactConfig {
  enabled: boolean;
  /** Action per built-in type (`email: pseudonymize`, `jwt: remove`, …). */
  kinds: Record<string, Action>;
  /** Whether the built-in key-name rules apply (user rules always come first). */
  builtin_fields: boolean;
  /** Field rules, first match wins: by key name (regex, case-insensitive) or by path. */
  fields: readonly { key?: string; path?: string; kind?: string; action?: Action }[];
  /** Extra text patterns, scanned after the built-in ones. */
  patterns: readonly { kind: string; regex: string; action?: Action }[];
}

/** What a field rule does to the value of a key (and, for pseudonymize/mask, every string below it). */
export interface FieldRule {
  kind: string;
  action: Action;
  /** Replacement of one sensitive string (unused for `keep`). */
  replace(sensitive: string): string;
}

export interface Redactor {
  /** Scans one string for every text pattern at once. Returns the same string when nothing matched. */
  scan: Scan;
  /** The same scan for a string not yet checked for control characters and surrogates: undefined when it may hold one (clean it, then `scan`). */
  scanIfClean: ScanIfClean;
  /** The key-name rule for a key (user key rules, then built-in), with its rank; the same key always gives the same answer, so callers cache it. */
  keyRule(key: string): { rule: FieldRule; rank: number } | undefined;
  /** Whether some path rule ends in this key: only then is `pathRule` worth asking. */
  hasPathRules(key: string): boolean;
  /** The first path rule for this key at this path that ranks before `rank`. */
  pathRule(key: string, path: string, rank: number): { rule: FieldRule; rank: number } | undefined;
  /** A card number written as a JSON number (only integers of 13+ digits are looked at). */
  number(n: number): { value: string; kind: string } | undefined;
}

const MARKED = /^(?:\[REDACTED:[a-z0-9_]+\]|(?:pii|secret):[a-z0-9_]+:[0-9a-f]{24})$/;
/** A value sealog already redacted (re-ingested records): left as it is. */
export function alreadyRedacted(s: string): boolean {
  return s.length <= 64 && MARKED.test(s);
}

/**
 * Compiles the redaction config once (at start): the text patterns into one scanner
 * (scanner.ts), key-name rules resolved per key and cached by the caller, path rules
 * indexed by their last key. Throws E_CONFIG_INVALID naming the bad rule.
 */
export function createRedactor(cfg: RedactConfig, pseudonymize: Pseudonymizer, scanner: ScannerOptions = {}): Redactor {
  const bad = (why: string) => new SealogError(ErrorCode.CONFIG_INVALID, `invalid redact config: ${why}`);
  const kindInfo = (type: string): KindInfo | undefined => (Object.hasOwn(KINDS, type) ? KINDS[type as keyof typeof KINDS] : undefined);

  function treatment(cls: KindClass, type: string, action: Action): FieldRule {
    const kind = `${cls}:${type}`;
    const info = kindInfo(type);
    const normalize = info?.normalize ?? ((v: string) => v);
    const mask = info?.mask ?? ((v: string) => defaultMask(cls, v));
    const marker = `[REDACTED:${type}]`;
    const replace = action === 'pseudonymize' ? (v: string) => pseudonymize(kind, normalize(v)) : action === 'mask' ? mask : () => marker;
    return { kind, action, replace };
  }
  const builtins = new Map(BUILTIN_TYPES.map((t) => [t as string, treatment(KINDS[t].cls, t, cfg.kinds[t] ?? KINDS[t].action)]));
  const builtin = (type: string): FieldRule | undefined => builtins.get(type);

  // Text patterns: built-in detectors whose type is not `keep` (a detector reporting several
  // types stays if any of them is scanned), then the configured extra patterns.
  const detectors: Detector[] = DETECTORS.filter((d) => (d.types ?? [d.name]).some((t) => builtin(t)?.action !== 'keep'));
  const custom = new Map<string, FieldRule>();
  const patterns: Detector[] = cfg.patterns.map((p, i) => {
    const [cls, type] = splitKind(p.kind, `patterns[${i}]`);
    let re: RegExp;
    try {
      re = configRegex(p.regex);
    } catch (err) {
      throw bad(`patterns[${i}].regex does not compile: ${(err as Error).message}`);
    }
    if (/\\[1-9]|\\k</.test(p.regex)) throw bad(`patterns[${i}].regex: backreferences are not supported (the patterns share one regex)`);
    if (re.test('')) throw bad(`patterns[${i}].regex matches the empty string`);
    const name = `custom:${i}`;
    custom.set(name, treatment(cls, type, p.action ?? defaultAction(cls, type)));
    return { name, source: p.regex };
  });
  const { scan, scanIfClean } = compileScanner(
    detectors,
    patterns,
    (type) => {
      const t: Treatment | undefined = custom.get(type) ?? builtin(type);
      return t && (t as FieldRule).action !== 'keep' ? t : undefined;
    },
    scanner,
  );

  // Field rules in config order; rank = position, built-ins rank after every user rule.
  const keyRules: { re: RegExp; rule: FieldRule; rank: number }[] = [];
  const pathRules = new Map<string, { re: RegExp; rule: FieldRule; rank: number }[]>();
  cfg.fields.forEach((f, rank) => {
    const where = `fields[${rank}]`;
    if ((f.key === undefined) === (f.path === undefined)) throw bad(`${where} needs exactly one of key or path`);
    if (f.kind === undefined && f.action === undefined) throw bad(`${where} needs a kind or an action`);
    const [cls, type] = f.kind !== undefined ? splitKind(f.kind, where) : ([f.action === 'remove' ? 'secret' : 'pii', 'field'] as const);
    const rule = treatment(cls, type, f.action ?? defaultAction(cls, type));
    if (f.key !== undefined) {
      let re: RegExp;
      try {
        re = configRegex(f.key, 'i');
      } catch (err) {
        throw bad(`${where}.key does not compile: ${(err as Error).message}`);
      }
      keyRules.push({ re, rule, rank });
    } else {
      const { re, lastKey } = compilePath(f.path!);
      let list = pathRules.get(lastKey);
      if (!list) pathRules.set(lastKey, (list = []));
      list.push({ re, rule, rank });
    }
  });
  const BUILTIN_RANK = cfg.fields.length;

  function defaultAction(cls: KindClass, type: string): Action {
    return cfg.kinds[type] ?? kindInfo(type)?.action ?? (cls === 'secret' ? 'remove' : 'pseudonymize');
  }

  const cardRule = detectors.some((d) => d.name === 'card') ? builtin('card') : undefined;

  return {
    scan,
    scanIfClean,
    keyRule(key) {
      for (const r of keyRules) if (r.re.test(key)) return { rule: r.rule, rank: r.rank };
      if (!cfg.builtin_fields) return undefined;
      const type = builtinKeyType(key);
      const rule = type && builtin(type);
      return rule ? { rule, rank: BUILTIN_RANK } : undefined;
    },
    hasPathRules: (key) => pathRules.has(key),
    pathRule(key, path, rank) {
      const list = pathRules.get(key);
      if (list) for (const r of list) if (r.rank < rank && r.re.test(path)) return r;
      return undefined;
    },
    number(n) {
      if (!cardRule || !(n >= 1e12 || n <= -1e12) || !Number.isSafeInteger(n)) return undefined;
      const s = String(Math.abs(n));
      return isCardNumber(s) ? { value: cardRule.replace(s), kind: cardRule.kind } : undefined;
    },
  };

  function splitKind(kind: string, where: string): [KindClass, string] {
    const m = /^(secret|pii):([a-z0-9_]+)$/.exec(kind);
    if (!m) throw bad(`${where}.kind ${JSON.stringify(kind)} must be secret:<type> or pii:<type>`);
    return [m[1] as KindClass, m[2]!];
  }
}
