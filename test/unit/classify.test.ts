import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { fieldReader, own } from '../../src/classify/fields.js';
import { loadSchemas } from '../../src/classify/schemas.js';
import { createClassifier, normalizeLevel } from '../../src/stages/classify.js';
import type { Draft, JsonObject } from '../../src/types.js';

const FIXTURES = resolve(import.meta.dirname, '../../../test/fixtures');
const draft = (event: JsonObject, kinds: string[] = []): Draft => ({
  source: { kind: 'socket', conn: 1, line: 1 },
  event,
  redactions: kinds.map((kind) => ({ path: 'event.x', kind })),
});
const plain = (v: unknown) => JSON.parse(JSON.stringify(v));

test('levels are normalized from pino numbers, syslog severities and names, Python names', () => {
  const cases: [unknown, string | undefined][] = [
    [10, 'trace'],
    [20, 'debug'],
    [30, 'info'],
    [40, 'warn'],
    [50, 'error'],
    [60, 'fatal'],
    [0, 'fatal'],
    [3, 'error'],
    [4, 'warn'],
    [6, 'info'],
    [7, 'debug'],
    ['WARN', 'warn'],
    ['warning', 'warn'],
    ['WARNING', 'warn'],
    ['CRITICAL', 'fatal'],
    ['crit', 'fatal'],
    ['emerg', 'fatal'],
    ['notice', 'info'],
    ['DEBUG', 'debug'],
    ['Error', 'error'],
    ['nonsense', undefined],
    [8.5, undefined],
  ];
  for (const [v, want] of cases) assert.equal(normalizeLevel(v as never), want, String(v));
});

test('[URS-ALC-010] every field shape of DESIGN §6 classifies as expected out of the box', () => {
  const classify = createClassifier({ rules: [] });
  const events = readFileSync(join(FIXTURES, 'event-shapes.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const expected = JSON.parse(readFileSync(join(FIXTURES, 'event-shapes.expected.json'), 'utf8'));
  assert.equal(events.length, expected.length);
  events.forEach((e, i) => {
    const d = classify(draft(e));
    assert.deepEqual(plain({ type: d.type, stream: d.stream, level: d.level, meta: d.meta }), expected[i], `fixture line ${i + 1}`);
  });
});

test('classification: pii whenever sanitize found PII, confidential for secrets and security, internal otherwise', () => {
  const classify = createClassifier({ rules: [{ match: { type: 'x' }, set: { classification: 'public' } }] });
  assert.equal(classify(draft({ type: 'y' })).meta!.classification, 'internal');
  assert.equal(classify(draft({ type: 'y' }, ['secret:aws_access_key'])).meta!.classification, 'confidential');
  assert.equal(classify(draft({ type: 'y' }, ['control_chars', 'pii:email'])).meta!.classification, 'pii');
  assert.equal(classify(draft({ type: 'x' })).meta!.classification, 'public');
  assert.equal(classify(draft({ type: 'x' }, ['pii:email'])).meta!.classification, 'pii', 'a rule never classifies PII down');
});

test('config rules match on event fields and on what was decided, and override it', () => {
  const classify = createClassifier({
    rules: [
      { name: 'debug noise', match: { 'event.logger': '^heartbeat', level: 'info' }, set: { level: 'debug' } },
      {
        match: { 'event.payload.kind': 'e-signature', 'event.payload.meaning': { exists: true } },
        set: { stream: 'audit', type: 'part11.signature', gamp_category: 4 },
      },
      { match: { 'event.retry': true }, set: { original: false } },
    ],
  });
  assert.equal(classify(draft({ logger: 'heartbeat.svc', msg: 'alive' })).level, 'debug');
  assert.equal(classify(draft({ logger: 'heartbeat.svc', msg: 'x', level: 'error' })).level, 'error', 'level condition not met');
  const sig = classify(draft({ payload: { kind: 'e-signature', meaning: 'approved' } }));
  assert.deepEqual([sig.stream, sig.type, sig.meta!.gamp_category], ['audit', 'part11.signature', 4]);
  assert.equal(classify(draft({ payload: { kind: 'e-signature' } })).stream, 'application', 'exists: true not met');
  assert.equal((classify(draft({ retry: true })).meta!.alcoa as JsonObject).original, false);
  assert.throws(() => createClassifier({ rules: [{ match: { bogus: 1 }, set: { level: 'info' } }] }), { code: 'E_CONFIG_INVALID' });
  assert.throws(() => createClassifier({ rules: [{ match: { 'event.a': '(' }, set: { level: 'info' } }] }), { code: 'E_CONFIG_INVALID' });
});

test('JSON Schema per type and version: failures become dead-letter entries with the schema error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealog-schemas-'));
  try {
    writeFileSync(
      join(dir, 'GAMPCategorizationEvent.schema.json'),
      JSON.stringify({ type: 'object', required: ['gamp_category'], properties: { gamp_category: { enum: [1, 3, 4, 5] } } }),
    );
    writeFileSync(join(dir, 'GAMPCategorizationEvent@2.schema.json'), JSON.stringify({ type: 'object', required: ['gamp_category', 'reviewer'] }));
    const classify = createClassifier({ rules: [], schemas: loadSchemas(dir) });
    assert.equal(classify(draft({ event_type: 'GAMPCategorizationEvent', gamp_category: 5 })).rejected, undefined);
    assert.equal(classify(draft({ event_type: 'PlanningEvent' })).rejected, undefined, 'no schema, no check');
    const bad = classify(draft({ event_type: 'GAMPCategorizationEvent', gamp_category: 2 }));
    assert.equal(bad.rejected?.code, 'E_SCHEMA');
    assert.equal(bad.stream, 'rejected');
    assert.match(bad.rejected!.reason, /event\/gamp_category must be equal to one of the allowed values/);
    assert.deepEqual(plain(bad.event.event), { event_type: 'GAMPCategorizationEvent', gamp_category: 2 });
    assert.equal(bad.event.schema, 'GAMPCategorizationEvent.schema.json');
    const v2 = classify(draft({ event_type: 'GAMPCategorizationEvent', gamp_category: 5, schema_version: 2 }));
    assert.match(v2.rejected!.reason, /must have required property 'reviewer'/);
    writeFileSync(join(dir, 'Broken.schema.json'), '{"type": "nonsense"}');
    assert.throws(
      () => loadSchemas(dir),
      (err: any) => err.code === 'E_CONFIG_INVALID' && err.message.includes('Broken.schema.json'),
    );
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('ALCOA who and where: the first named field with text, the event before its payload at one name', () => {
  const classify = createClassifier({ rules: [] });
  const alcoa = (event: JsonObject) => classify(draft(JSON.parse(JSON.stringify(event)) as JsonObject)).meta!.alcoa as JsonObject;
  // agent_id ranks before logger, wherever each is.
  assert.equal(alcoa({ logger: 'app', payload: { agent_id: 'a-1' } }).who, 'a-1');
  // At one name the event's field wins; an empty string is no answer.
  assert.equal(alcoa({ payload: { actor: 'p' }, actor: 'e' }).who, 'e');
  assert.equal(alcoa({ actor: '', payload: { actor: 'p' } }).who, 'p');
  assert.equal(alcoa({ source: 'svc', hostname: 7, payload: { hostname: 'h1' } }).where, 'h1');
  // A name only inherited (no own field) and a payload that is an array give nothing.
  assert.equal(alcoa({ payload: ['actor'] }).who, undefined);
  const bare = Object.create({ actor: 'inherited' }) as JsonObject;
  assert.equal((classify(draft(bare)).meta!.alcoa as JsonObject).who, undefined);
});

test('the field reader finds what own() finds, in the event and its payload, read after read', () => {
  const names = ['payload', 'actor', 'level', 'source', 'constructor', '__proto__', 'toString'] as const;
  const reader = fieldReader(names.slice(1));
  const name = fc.constantFrom(...names, 'other');
  const scalar = fc.oneof(fc.constant(null), fc.boolean(), fc.string({ maxLength: 3 }), fc.integer());
  const object = fc.dictionary(name, fc.oneof(scalar, fc.array(scalar, { maxLength: 2 }), fc.dictionary(name, scalar)), { maxKeys: 6 });
  // Own fields only: a prototype's names (or none at all) must not show.
  const shaped = fc
    .tuple(object, fc.constantFrom('plain', 'null', 'inherited'))
    .map(([o, proto]) => (proto === 'plain' ? o : Object.assign(Object.create(proto === 'null' ? null : { actor: 'inherited', payload: { level: 'x' } }), o)));
  fc.assert(
    fc.property(fc.array(shaped, { minLength: 1, maxLength: 4 }), (events) => {
      for (const e of events) {
        const { event, payload } = reader.read(e as JsonObject);
        for (const n of names) {
          assert.equal(event[reader.slot[n]], own(e as JsonObject, n), `event.${n}`);
          assert.equal(payload[reader.slot[n]], own(own(e as JsonObject, 'payload'), n), `payload.${n}`);
        }
      }
    }),
    { numRuns: Number(process.env.SEALOG_FUZZ_RUNS ?? 300) * 10 },
  );
});
