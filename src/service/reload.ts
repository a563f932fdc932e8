import { isDeepStrictEqual } from 'node:util';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';

/**
 * Settings a running daemon takes on at SIGHUP. Everything else (paths, socket,
 * spool, fsync, segment and checkpoint policy, redaction and its keys, limits,
 * the front's worker threads) is fixed for the life of the process: a change is
 * named in the log as needing a restart, and the old value stays in force.
 */
export const LIVE_SETTINGS: readonly string[] = [
  'log.level',
  'classify.rules',
  'classify.schemas_dir',
  'batch.max_records',
  'batch.max_bytes',
  'batch.linger_ms',
  'sanitize.max_depth',
  'sanitize.max_string_chars',
  'sanitize.max_items',
];

/** Dotted names of the settings that differ; a live setting compares whole (rules are one setting). */
export function changedSettings(a: unknown, b: unknown, at = ''): string[] {
  if (LIVE_SETTINGS.includes(at) || !isObject(a) || !isObject(b)) return isDeepStrictEqual(a, b) ? [] : [at];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) => changedSettings(a[k], b[k], at ? `${at}.${k}` : k));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export interface ReloadOutcome {
  at: string;
  ok: boolean;
  applied: string[];
  needsRestart: string[];
  error?: string;
}

/**
 * Prepares everything a new config needs (compiling rules, loading schemas) and
 * only then swaps, so a reload is all or nothing. Throwing refuses the reload.
 */
export type Prepare = (next: Config, changed: readonly string[]) => () => void;

/** SIGHUP: re-read, check, and either apply the live settings at once or keep the old config fully in force. */
export class Reloader {
  private count = 0;
  private lastOutcome: ReloadOutcome | undefined;

  constructor(
    private current: Config,
    private readonly prepare: Prepare,
    private readonly log: Logger,
  ) {}

  reload(read: () => Config): ReloadOutcome {
    this.count++;
    const at = new Date().toISOString();
    let outcome: ReloadOutcome;
    try {
      const next = read();
      const changed = changedSettings(this.current, next);
      const applied = changed.filter((k) => LIVE_SETTINGS.includes(k));
      const needsRestart = changed.filter((k) => !LIVE_SETTINGS.includes(k));
      this.prepare(next, applied)();
      // What needs a restart keeps its old value: the config in force is the old one with the live settings swapped in.
      this.current = mergeLive(this.current, next, applied);
      outcome = { at, ok: true, applied, needsRestart };
      for (const name of needsRestart) this.log.warn({ setting: name }, `configuration: ${name} changed; it takes effect only after a restart`);
      // Last, so that whoever waits for this line has seen the warnings before it.
      this.log.info({ applied }, applied.length ? 'configuration reloaded' : 'configuration reloaded: no setting that applies at run time changed');
    } catch (err) {
      outcome = { at, ok: false, applied: [], needsRestart: [], error: (err as Error).message };
      this.log.error({ error: outcome.error }, 'configuration reload refused; the running configuration stays in force');
    }
    this.lastOutcome = outcome;
    return outcome;
  }

  get status(): { count: number; last?: ReloadOutcome } {
    return { count: this.count, last: this.lastOutcome };
  }
}

function mergeLive(current: Config, next: Config, applied: readonly string[]): Config {
  const out = structuredClone(current) as unknown as Record<string, Record<string, unknown>>;
  for (const name of applied) {
    const [group, key] = name.split('.') as [string, string];
    out[group]![key] = structuredClone((next as unknown as Record<string, Record<string, unknown>>)[group]![key]);
  }
  return out as unknown as Config;
}
