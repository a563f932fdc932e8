import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { loadConfig, type Config } from '../../src/config.js';
import { createFront } from '../../src/front/front.js';
import type { RawLine } from '../../src/types.js';
import { buildPumped, pumped } from '../helpers/arbitraries.js';

// Every detector is linear in its input: the front's CPU per KB for hostile lines (strings built
// to make a backtracking scanner rescan, repeated up to the line limit) stays within a constant
// factor of a normal event's. Measured as CPU time of this process, and judged as a ratio to the
// DESIGN §6 event shapes measured here too, never against a wall-clock figure.

const FIXTURES = resolve(import.meta.dirname, '../../../test/fixtures');
const SHAPES = readFileSync(join(FIXTURES, 'event-shapes.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => Buffer.from(l));
const cfg = loadConfig(undefined);
const LINE_LIMIT = cfg.socket.max_line_bytes;
const src = { kind: 'socket' as const, conn: 1, line: 1 };
const KEY = Buffer.alloc(32, 7);
/** No input may cost more than this many times a normal event, per KB (issue 18). */
const MAX_RATIO = 50;
// Each run measures up to 64 KB three times: a tenth of the property tests' usual count.
const RUNS = Math.ceil(Number(process.env.SEALOG_FUZZ_RUNS ?? 300) / 10);

function cpuMicros(fn: () => void): number {
  const t = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t);
  return d.user + d.system;
}

/**
 * CPU µs per KB of the front over these lines: the least of `reps` tries (GC pauses and
 * preemption only add). Each try on a new front, so no try finds a key cached by the one before.
 */
function perKB(lines: Buffer[], reps = 3, config: Config = cfg): number {
  const kb = lines.reduce((n, l) => n + l.length, 0) / 1024;
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const front = createFront(config, KEY);
    best = Math.min(best, cpuMicros(() => lines.forEach((bytes) => front.run({ bytes, source: src } satisfies RawLine))) / kb);
  }
  return best;
}

// The normal event: the DESIGN §6 shapes, repeated to a few ms of work per try. Measured again
// beside each hostile line (the machine is shared: its speed drifts between measurements).
const normalLines = Array.from({ length: 100 }, () => SHAPES).flat();
perKB(normalLines, 5);
const normal = () => perKB(normalLines, 2);
const NORMAL = normal();
assert.ok(NORMAL > 0 && Number.isFinite(NORMAL), `normal cost measured: ${NORMAL} µs/KB`);

/** The line for a hostile string: a JSON string value, an object key, or the whole (invalid) line for the dead letter. */
function lineOf(s: string, where: 'value' | 'key' | 'raw'): Buffer {
  const text = where === 'value' ? JSON.stringify({ msg: s }) : where === 'key' ? JSON.stringify({ [s]: 1 }) : s;
  return Buffer.from(text).subarray(0, LINE_LIMIT);
}

function assertFlat(line: Buffer, what: string): number {
  const ratio = perKB([line], 2) / normal();
  assert.ok(ratio <= MAX_RATIO, `${what}: ${ratio.toFixed(0)}× a normal event's CPU per KB (${(line.length / 1024).toFixed(0)} KB; limit ${MAX_RATIO}×)`);
  return ratio;
}

test(`hostile strings from the issue cost at most ${MAX_RATIO}× a normal event per KB, at 64 KB and at the line limit`, () => {
  const cases = ['pwd=${', 'pwd=<', 'pwd=‹', 'ssn=${', 'first_name:${', 'password=<', 'token=${', 'pwd="${'];
  for (const seed of cases) {
    for (const where of ['value', 'key', 'raw'] as const) {
      const at64 = assertFlat(lineOf(seed.repeat(65536 / seed.length), where), `${seed}… as ${where}`);
      const atLimit = assertFlat(lineOf(seed.repeat(LINE_LIMIT / seed.length) + '>}', where), `${seed}… as ${where}`);
      // Flat: the cost per byte does not grow with the length (a quadratic scan grows 16× here).
      assert.ok(
        atLimit <= Math.max(4 * at64, 10),
        `${seed}… as ${where}: per KB ${at64.toFixed(1)}× at 64 KB, ${atLimit.toFixed(1)}× at ${LINE_LIMIT / 1024} KB`,
      );
    }
  }
});

test(`random and pumped hostile strings cost at most ${MAX_RATIO}× a normal event per KB`, () => {
  fc.assert(
    fc.property(pumped({ minLength: 8192, maxLength: 65536 }), fc.constantFrom('value', 'key', 'raw'), (recipe, where) => {
      assertFlat(lineOf(buildPumped(recipe), where), `${JSON.stringify(recipe)} as ${where}`);
    }),
    { numRuns: RUNS, endOnFailure: true },
  );
});

test('a configured pattern or classify rule that backtracks catastrophically still costs a bounded amount per KB', () => {
  // `(a+)+b` on a run of a's without a b backtracks exponentially: without V8's linear-time
  // fallback (configRegex.ts) this test would not end.
  const hostile: Config = {
    ...cfg,
    redact: { ...cfg.redact, patterns: [{ kind: 'secret:thing', regex: '(a+)+b' }] },
    classify: { ...cfg.classify, rules: [{ match: { 'event.msg': '^(a+)+$' }, set: { type: 'never' } }] },
  };
  const line = lineOf(`${'a'.repeat(60_000)}!`, 'value');
  const ratio = perKB([line], 2, hostile) / NORMAL;
  assert.ok(ratio <= MAX_RATIO, `${ratio.toFixed(0)}× a normal event's CPU per KB`);
  // ...and the patterns still work.
  const front = createFront(hostile, KEY);
  const out = front.run({ bytes: Buffer.from(JSON.stringify({ msg: 'x aaab y' })), source: src });
  assert.match(out.buf.toString('utf8', out.start, out.end), /x \[REDACTED:thing\] y/);
});
