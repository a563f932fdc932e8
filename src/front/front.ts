import { loadSchemas } from '../classify/schemas.js';
import type { Config } from '../config.js';
import { createPseudonymizer } from '../crypto/pseudonym.js';
import { createRedactor, type Redactor } from '../redact/redactor.js';
import { createClassifier } from '../stages/classify.js';
import { parse } from '../stages/parse.js';
import { createSanitizer } from '../stages/sanitize.js';
import { type PackWriter, type PackedExtras, packInto, serialize } from '../stages/serialize.js';
import type { Draft, Packed, RawLine } from '../types.js';

/** classify's rules and schemas compiled; throws on a bad rule or schema file. */
export function classifierFor(c: Config): ReturnType<typeof createClassifier> {
  return createClassifier({ rules: c.classify.rules, schemas: loadSchemas(c.classify.schemas_dir) });
}

export interface Front {
  /** parse → sanitize → classify → serialize, for one input line or one of sealog's own records. */
  run(raw: RawLine): Packed;
  /** The same, appended to a chunk's results (packInto: positions in cuts[at..at+4)); what it carries besides its bytes. */
  runInto(raw: RawLine, w: PackWriter, cuts: Uint32Array, at: number): PackedExtras | undefined;
  /** Builds what a reloaded config needs (classify's rules and schemas, sanitize's limits); throws on a bad one. The returned swap cannot fail. */
  reload(cfg: Config): () => void;
}

/**
 * The line's bytes when the finished draft's event is the very object JSON.parse made of them
 * (sanitize copies on write, classify writes beside the event): serialize then canonicalizes
 * the bytes, not the object. Most events; not a rejection, a schema's dead letter or a changed one.
 */
function textOf(raw: RawLine, parsed: Draft, d: Draft): Buffer | undefined {
  return d.event === parsed.event && !d.rejected && !d.system ? raw.bytes : undefined;
}

/**
 * The pipeline's front as one function: the same in the worker thread and inline on the
 * main thread (FrontStage). Every pattern, rule and schema is compiled here, once; the
 * HMAC key goes into the pseudonymizer only and is zeroed by the caller.
 */
export function createFront(cfg: Config, hmacKey: Buffer): Front {
  const redactor: Redactor | undefined = cfg.redact.enabled ? createRedactor(cfg.redact, createPseudonymizer(hmacKey)) : undefined;
  const sanitizerFor = (c: Config) =>
    createSanitizer({ maxDepth: c.sanitize.max_depth, maxStringChars: c.sanitize.max_string_chars, maxItems: c.sanitize.max_items }, redactor);
  let sanitize = sanitizerFor(cfg);
  let classify = classifierFor(cfg);
  const withDedupe = cfg.dedupe.enabled;
  return {
    run(raw) {
      const parsed = parse(raw);
      const d = classify(sanitize(parsed));
      return serialize(d, withDedupe, textOf(raw, parsed, d));
    },
    runInto(raw, w, cuts, at) {
      const parsed = parse(raw);
      const d = classify(sanitize(parsed));
      return packInto(w, d, withDedupe, cuts, at, textOf(raw, parsed, d));
    },
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
