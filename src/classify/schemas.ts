import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { ErrorCode, SealogError } from '../errors.js';
import type { JsonObject } from '../types.js';
import { own } from './fields.js';

export type SchemaCheck = (type: string, event: JsonObject) => { schema: string; error: string } | undefined;

const FILE = /^(.+?)(?:@([^@]+))?\.schema\.json$/;

/**
 * Loads every `<type>.schema.json` and `<type>@<version>.schema.json` in the
 * directory and compiles it once. An event is checked against the schema for its
 * type and version (`schema_version` or `version` field), else its type's
 * unversioned schema; a type with no schema is not checked.
 */
export function loadSchemas(dir: string): SchemaCheck | undefined {
  if (!dir) return undefined;
  const ajv = new Ajv({ allErrors: true, strict: false });
  const byKey = new Map<string, { name: string; validate: ValidateFunction }>();
  const problems: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new SealogError(ErrorCode.CONFIG_INVALID, `classify.schemas_dir: ${(err as Error).message}`);
  }
  for (const name of names) {
    const m = FILE.exec(name);
    if (!m) continue;
    try {
      const validate = ajv.compile(JSON.parse(readFileSync(join(dir, name), 'utf8')));
      byKey.set(m[2] ? `${m[1]}@${m[2]}` : m[1]!, { name, validate });
    } catch (err) {
      problems.push(`  - ${name}: ${(err as Error).message}`);
    }
  }
  if (problems.length) throw new SealogError(ErrorCode.CONFIG_INVALID, `invalid schemas in ${dir}:\n${problems.join('\n')}`);
  return (type, event) => {
    const version = own(event, 'schema_version') ?? own(event, 'version');
    const s = (typeof version === 'string' || typeof version === 'number' ? byKey.get(`${type}@${version}`) : undefined) ?? byKey.get(type);
    if (!s || s.validate(event)) return undefined;
    return { schema: s.name, error: ajv.errorsText(s.validate.errors, { dataVar: 'event' }) };
  };
}
