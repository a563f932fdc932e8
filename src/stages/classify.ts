import { classifyDefault } from '../classify/defaults.js';
import { compileRules, type RuleConfig } from '../classify/rules.js';
import type { SchemaCheck } from '../classify/schemas.js';
import { RejectCode, RejectReason } from '../errors.js';
import { REJECTED_TYPE } from '../ownRecords.js';
import type { Draft } from '../types.js';

export { normalizeLevel, type Level } from '../classify/defaults.js';

export interface ClassifyOptions {
  rules: readonly RuleConfig[];
  schemas?: SchemaCheck;
}

/**
 * classify: stream, normalized level, type, and the regulated metadata (`meta`:
 * data classification, GAMP category, ALCOA+ who/when/where/original) by the
 * built-in defaults, then the configured rules; then the event's JSON Schema,
 * if one is configured for its type. Rules and schemas are compiled here, once.
 * The draft is owned by the pipeline, so it is filled in place.
 */
export function createClassifier(opts: ClassifyOptions): (draft: Draft) => Draft {
  const applyRules = compileRules(opts.rules);
  const { schemas } = opts;
  return (d) => {
    if (d.system) return d;
    if (d.rejected) {
      d.stream = 'rejected';
      d.level = 'warn';
      d.type = REJECTED_TYPE;
      d.meta = { classification: 'confidential' }; // raw input, unparsed: treat with care
      return d;
    }
    classifyDefault(d);
    applyRules(d);
    // PII found by sanitize is never classified down by a rule.
    if (d.redactions.some((r) => r.kind.startsWith('pii:'))) d.meta!.classification = 'pii';
    const failed = schemas?.(d.type!, d.event);
    if (failed) {
      const reason = `${RejectReason.E_SCHEMA}: ${failed.error}`;
      // The dead letter keeps the sanitized event (never the raw line, which may hold secrets).
      d.event = { code: RejectCode.SCHEMA, reason, schema: failed.schema, type: d.type!, event: d.event };
      d.rejected = { code: RejectCode.SCHEMA, reason };
      d.stream = 'rejected';
      d.level = 'warn';
      d.type = REJECTED_TYPE;
    }
    return d;
  };
}
