import { hash } from 'node:crypto';
import { loadSchemas } from '../classify/schemas.js';
import type { Config } from '../config.js';
import { jcsFast } from '../crypto/canonical.js';
import { createPseudonymizer } from '../crypto/pseudonym.js';
import { createRedactor, type Redactor } from '../redact/redactor.js';
import type { Draft, Prepared, RawLine } from '../types.js';
import { createClassifier } from './classify.js';
import { parse } from './parse.js';
import { createSanitizer } from './sanitize.js';

/** The dedupe key of an event, or undefined when it has none we can trust (missing, not a string/number, redacted). */
export function dedupeKey(d: Pick<Draft, 'event' | 'redactions' | 'rejected' | 'system' | 'source'>): string | undefined {
  if (d.rejected || d.system || d.source.kind === 'sealog') return undefined;
  const id = d.event.event_id;
  if (typeof id === 'string' ? id.length === 0 : typeof id !== 'number') return undefined;
  // A redacted id stands for many values: it identifies nothing.
  if (d.redactions.some((r) => r.path === 'event.event_id')) return undefined;
  return typeof id === 'string' ? `s${id}` : `n${id}`;
}

/** The event_id a dedupe key was made from (for the duplicate ack). */
export function eventIdOf(key: string): string | number {
  return key[0] === 's' ? key.slice(1) : Number(key.slice(1));
}

/** Digest of the canonical event text: the same id on a different event is not a resend. */
export function eventDigest(eventJcs: string): string {
  return hash('sha256', eventJcs, 'base64').slice(0, 22);
}

/** A finished draft as seal takes it: canonical text of its parts, defaults filled in. */
export function prepare(d: Draft, withDedupe: boolean): Prepared {
  const eventJcs = jcsFast(d.event);
  const key = withDedupe ? dedupeKey(d) : undefined;
  return {
    source: d.source,
    ack: d.ack,
    rejected: d.rejected,
    eventJcs,
    metaJcs: d.meta ? jcsFast(d.meta) : '{}',
    redactionsJcs: d.redactions.length ? jcsFast(d.redactions) : '[]',
    stream: d.stream ?? 'application',
    level: d.level ?? 'info',
    type: d.type ?? 'event',
    dedupe: key === undefined ? undefined : { key, digest: eventDigest(eventJcs) },
  };
}

/** classify's rules and schemas compiled; throws on a bad rule or schema file. */
export function classifierFor(c: Config): ReturnType<typeof createClassifier> {
  return createClassifier({ rules: c.classify.rules, schemas: loadSchemas(c.classify.schemas_dir) });
}

export interface Front {
  /** parse → sanitize → classify → prepare, for one input line or one of sealog's own records. */
  run(raw: RawLine): Prepared;
  /** Builds what a reloaded config needs (classify's rules and schemas, sanitize's limits); throws on a bad one. The returned swap cannot fail. */
  reload(cfg: Config): () => void;
}

/**
 * The pipeline's front as one function. Every pattern, rule and schema is compiled
 * here, once; the HMAC key goes into the pseudonymizer only and is zeroed by the caller.
 */
export function createFront(cfg: Config, hmacKey: Buffer): Front {
  const redactor: Redactor | undefined = cfg.redact.enabled ? createRedactor(cfg.redact, createPseudonymizer(hmacKey)) : undefined;
  const sanitizerFor = (c: Config) => createSanitizer({ maxDepth: c.sanitize.max_depth, maxStringChars: c.sanitize.max_string_chars, maxItems: c.sanitize.max_items }, redactor);
  let sanitize = sanitizerFor(cfg);
  let classify = classifierFor(cfg);
  const withDedupe = cfg.dedupe.enabled;
  return {
    run: (raw) => prepare(classify(sanitize(parse(raw))), withDedupe),
    reload(next) {
      const c = classifierFor(next);
      const s = sanitizerFor(next);
      return () => {
        classify = c;
        sanitize = s;
      };
    },
  };
}
