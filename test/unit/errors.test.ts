import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as errors from '../../src/errors.js';

// The one registry (src/errors.ts): every code is defined there once, and code
// elsewhere names it through the registry, never as a string of its own.
const registries = Object.entries(errors).filter(([name, v]) => name.endsWith('Code') && typeof v === 'object') as [string, Record<string, string>][];

test('every coded error is in the registry once, in the E_/V_ form', () => {
  const seen = new Map<string, string>();
  for (const [name, codes] of registries) {
    for (const [key, code] of Object.entries(codes)) {
      assert.match(code, /^[EV]_[A-Z0-9_]+$/, `${name}.${key}`);
      assert.ok(!seen.has(code), `${code} is in both ${seen.get(code)} and ${name}`);
      seen.set(code, name);
    }
  }
  assert.ok(seen.size > 40);
  for (const code of Object.values(errors.RejectCode)) assert.ok(errors.RejectReason[code], `${code} has a reason`);
});

const root = join(import.meta.dirname, '..', '..', '..', 'src');
const sources = (readdirSync(root, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.ts') && f !== 'errors.ts')
  .map((f) => [f, readFileSync(join(root, f), 'utf8')] as const);

test('no source file outside src/errors.ts spells out a code as a string of its own', () => {
  const literal = /'([EV]_[A-Z][A-Z0-9_]+)'/g;
  const found = sources.flatMap(([f, text]) => [...text.matchAll(literal)].map((m) => `${f}: ${m[1]}`));
  assert.deepEqual(found, []);
});

test('every code that help texts and comments name is in the registry', () => {
  const known = new Set(registries.flatMap(([, codes]) => Object.values(codes)));
  const named = /\b([EV]_[A-Z][A-Z0-9]+(?:_[A-Z0-9]+)*)\b/g;
  const unknown = sources.flatMap(([f, text]) => [...text.matchAll(named)].filter((m) => !known.has(m[1]!)).map((m) => `${f}: ${m[1]}`));
  assert.deepEqual(unknown, []);
});
