import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { createPseudonymizer } from '../../src/crypto/pseudonym.js';
import { RejectCode } from '../../src/errors.js';
import { DETECTED_TYPES } from '../../src/redact/detectors.js';
import { BUILTIN_TYPES, KINDS } from '../../src/redact/kinds.js';
import { createRedactor, type RedactConfig } from '../../src/redact/redactor.js';
import { parse } from '../../src/stages/parse.js';
import { createSanitizer } from '../../src/stages/sanitize.js';
import type { Draft, JsonObject, RawLine } from '../../src/types.js';

// The planted corpus: test/fixtures/planted.jsonl (events) and planted.invalid.txt (lines that
// are not JSON, for the dead letter), with every planted value and the kind it must be listed
// as in planted.values.json. The integration test sends the same corpus to the real daemon.
const FIXTURES = resolve(import.meta.dirname, '../../../test/fixtures');
const read = (f: string) => readFileSync(join(FIXTURES, f), 'utf8');
const validLines = read('planted.jsonl').trim().split('\n');
const invalidLines = read('planted.invalid.txt').trim().split('\n');
const planted = JSON.parse(read('planted.values.json')) as { value: string; kind: string }[];

const KEY = Buffer.alloc(32, 0x5e);
const LIMITS = { maxDepth: 32, maxStringChars: 65536, maxItems: 10_000 };
const defaults = loadConfig(undefined).redact;
const withRedact = (over: Partial<RedactConfig> = {}, key = KEY, limits = LIMITS) =>
  createSanitizer(limits, createRedactor({ ...defaults, ...over, kinds: { ...defaults.kinds, ...(over.kinds ?? {}) } }, createPseudonymizer(key)));
const sanitize = withRedact();
const src = { kind: 'socket' as const, conn: 1, line: 1 };
const draft = (event: JsonObject): Draft => ({ source: src, event, redactions: [] });
const raw = (s: string | Buffer): RawLine => ({ bytes: Buffer.isBuffer(s) ? s : Buffer.from(s), source: src });
const kinds = (d: Draft) => d.redactions.map((r) => `${r.path} ${r.kind}`);
/** Everything of a draft that reaches the record or the client's ack. */
const visible = (d: Draft) => JSON.stringify([d.event, d.redactions, d.rejected ?? null]);
const containsValue = (line: string, v: string) => line.includes(v) || line.includes(JSON.stringify(v).slice(1, -1));

test('the corpus holds every planted value, and every planted line something planted', () => {
  const all = [...validLines, ...invalidLines];
  for (const { value } of planted)
    assert.ok(
      all.some((l) => containsValue(l, value)),
      `${value} is planted somewhere`,
    );
  for (const l of all)
    assert.ok(
      planted.some(({ value }) => containsValue(l, value)),
      `line has a planted value: ${l.slice(0, 60)}`,
    );
  for (const l of invalidLines) assert.equal(parse(raw(l)).rejected?.code, RejectCode.INVALID_JSON);
});

test('no planted secret or PII survives sanitize, and each is listed in redactions by kind', () => {
  const lines = [...validLines, ...invalidLines];
  const out = lines.map((l) => sanitize(parse(raw(l))));
  for (const { value, kind } of planted) {
    lines.forEach((l, i) => {
      if (!containsValue(l, value)) return;
      const d = out[i]!;
      assert.ok(!visible(d).includes(value), `${value} leaked from line ${i + 1}: ${visible(d)}`);
      assert.ok(
        d.redactions.some((r) => r.kind === kind),
        `line ${i + 1} lists ${kind} for ${value}: ${kinds(d)}`,
      );
    });
  }
  // Redactions name paths and kinds only.
  for (const d of out) for (const r of d.redactions) assert.deepEqual(Object.keys(r).sort(), ['kind', 'path']);
});

test('default decisions for the shapes of DESIGN §6: emails and addresses pseudonymized, ids and key hashes kept', () => {
  const shapes = read('event-shapes.jsonl')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as JsonObject);
  const changed = shapes.map((e) => sanitize(draft(e))).filter((d, i) => d.event !== shapes[i]);
  assert.deepEqual(changed.flatMap(kinds).sort(), ['event.customer_email pii:email', 'event.payload.context.ip_address pii:ip']);
  const security = sanitize(draft(shapes.find((e) => e.event_type === 'omninode.logging.security.v1')!));
  const ctx = (security.event.payload as JsonObject).context as JsonObject;
  assert.equal(ctx.api_key_hash, 'sha256:abc123', 'a digest of a high-entropy key stays: it shows which key was used');
  assert.equal((security.event.payload as JsonObject).user_id, 'user-456', 'pseudonymous ids stay');
  assert.match(ctx.ip_address as string, /^pii:ip:[0-9a-f]{24}$/);
  assert.equal(ctx.user_agent, 'omniclaude/1.0.0');
});

test('ordinary ids, digests, versions, times and durations are not secrets or PII', () => {
  const negatives = [
    '550e8400-e29b-41d4-a716-446655440000',
    '12345678-1234-1234-1234-123456789012',
    'b37bbdc8-0386-4451-9229-a4497bf34730',
    'req-12345',
    'abc-123-def-456',
    'tenant-123',
    'user-456',
    't-42',
    'wf-a1b2c3',
    'call_3f2a9c1b0d8e7f6a5b4c3d2e',
    'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3',
    '4bf92f3577b34da6a3ce929d0e0e4736',
    '00f067aa0ba902b7',
    'sha256:abc123',
    '1.2.3',
    'v2.10.4',
    'version 10.0.19041.1',
    'omniclaude/1.0.0',
    'python 3.11.4',
    'node v20.20.2',
    '1.2.3.4.5',
    '2026-11-20T14:30:00.123456Z',
    '2026-11-20T10:30:00+01:00',
    '2026-11-20 10:30:45',
    '20261120T103045Z',
    '1795176000000',
    'Fri, 20 Nov 2026 10:30:45 GMT',
    '1.82s',
    '1234ms',
    '00:01:23.456',
    'PT1H30M',
    'took 4.82 seconds',
    'timeout after 1.8s',
    'prompt_tokens: 1200',
    'max_tokens=4096',
    'token_count: 5',
    'tokens: 42',
    'Bearer authentication failed',
    'password reset requested for the account',
    'the api key was rotated',
    'password: ********',
    'secret: null',
    'token=',
    'price $1,234.56 on port 8080',
    'MAC 00:1A:2B:3C:4D:5E',
    'std::vector<int>',
    'crate::module::Item',
    'Refund for order 991',
    'Annex 11 Part 21 CFR GAMP 5',
    'loopback 127.0.0.1, any 0.0.0.0, ::1',
    '4111 1111 1111 1112',
    '1234567890123456',
    'sk-cluster-deployment-east',
    'task-management-system-config',
    'GET /api/v1/users/12345/orders?limit=50',
    '@types/node',
    'user@host',
  ];
  for (const v of negatives) {
    const d = draft({ v, time: 1795176000000, prompt_tokens: 1200, api_key_hash: 'sha256:abc123', actor: 'user-456', duration_ms: 1234 });
    const out = sanitize(d);
    assert.equal(out, d, `${v} is left alone (${kinds(out)})`);
  }
});

test('events without anything to redact come back as the same object', () => {
  const shapes = read('event-shapes.jsonl')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as JsonObject);
  for (const e of shapes.filter((x) => !JSON.stringify(x).match(/customer_email|ip_address/))) {
    const d = draft(e);
    assert.equal(sanitize(d), d);
  }
});

test('pseudonyms are stable under one key, differ under another, and follow one person across spellings', () => {
  const other = withRedact({}, Buffer.alloc(32, 0x77));
  const a = sanitize(
    draft({ customer_email: 'Jane.Doe@Example.com', msg: 'mail jane.doe@example.com', phone: '+1 (415) 555-0134', n: 'call +1 415 555 0134' }),
  );
  const b = sanitize(draft({ customer_email: 'jane.doe@example.com' }));
  const c = other(draft({ customer_email: 'jane.doe@example.com' }));
  const p = a.event.customer_email as string;
  assert.match(p, /^pii:email:[0-9a-f]{24}$/);
  assert.equal(b.event.customer_email, p, 'same key, same (normalized) value');
  assert.equal(a.event.msg, `mail ${p}`, 'the same person in free text gets the same pseudonym');
  assert.equal(a.event.n, `call ${a.event.phone}`, 'phone numbers compare by their digits');
  assert.notEqual(c.event.customer_email, p, 'another key, another pseudonym');
});

test('actions per kind: pseudonymize, mask, remove, keep', () => {
  const s = withRedact({ kinds: { email: 'mask', card: 'mask', ip: 'mask', phone: 'remove', ssn: 'keep', aws_access_key: 'pseudonymize', name: 'mask' } });
  const out = s(
    draft({
      msg: 'jane.doe@example.com paid with 4111-1111-1111-1111 from 203.0.113.42, call (415) 555-0134, SSN 078-05-1120, key AKIAIOSFODNN7EXAMPLE',
      first_name: 'Jane',
    }),
  );
  assert.equal(
    out.event.msg,
    `***@example.com paid with ****1111 from 203.0.x.x, call [REDACTED:phone], SSN 078-05-1120, key ${(out.event.msg as string).match(/secret:aws_access_key:[0-9a-f]{24}/)?.[0]}`,
  );
  assert.equal(out.event.first_name, 'J***');
  assert.deepEqual(kinds(out), [
    'event.msg pii:email',
    'event.msg pii:card',
    'event.msg pii:ip',
    'event.msg pii:phone',
    'event.msg secret:aws_access_key',
    'event.first_name pii:name',
  ]);
});

test('field rules: by key name and by path, first match wins, the closest rule to a value wins', () => {
  const s = withRedact({
    fields: [
      { path: 'event.patient.name', kind: 'pii:name' },
      { path: 'event.items[*].owner', kind: 'pii:name', action: 'mask' },
      { path: 'event.*.nickname', kind: 'pii:name' },
      { key: '^(approved|signed)_by$', kind: 'pii:name' },
      { key: '^debug_blob$', action: 'keep' },
      { key: '^vault$', action: 'remove' },
      { path: 'event.customer_email', action: 'keep' },
    ],
  });
  const e = {
    patient: { name: 'Zelda Quimby', mrn: 7 },
    name: 'web_search',
    items: [{ owner: 'Alex Example' }, { owner: 'Bo Example' }],
    team: { nickname: 'Bee' },
    approved_by: 'Dr. Ada',
    debug_blob: { note: 'mail jane@example.com', password: 'hunter2-secret' },
    vault: { a: 1, b: ['x'] },
    customer_email: 'kept@example.com',
  };
  const out = s(draft(e));
  const ev = JSON.parse(JSON.stringify(out.event));
  assert.match(ev.patient.name, /^pii:name:/);
  assert.equal(ev.patient.mrn, 7);
  assert.equal(ev.name, 'web_search', 'a bare `name` is not a person by default');
  assert.deepEqual(
    ev.items.map((i: any) => i.owner),
    ['A***', 'B***'],
  );
  assert.match(ev.team.nickname, /^pii:name:/);
  assert.match(ev.approved_by, /^pii:name:/);
  assert.equal(ev.debug_blob.note, 'mail jane@example.com', 'keep: no pattern scan below');
  assert.equal(ev.debug_blob.password, '[REDACTED:password]', 'a key rule below a kept field still applies');
  assert.equal(ev.vault, '[REDACTED:field]', 'remove takes a whole object');
  assert.equal(ev.customer_email, 'kept@example.com', 'a path rule overrides a built-in key rule');
  assert.deepEqual(kinds(out), [
    'event.patient.name pii:name',
    'event.items[0].owner pii:name',
    'event.items[1].owner pii:name',
    'event.team.nickname pii:name',
    'event.approved_by pii:name',
    'event.debug_blob.password secret:password',
    'event.vault secret:field',
  ]);
});

test('built-in key rules: snake_case or camelCase, whole words at the end of the key', () => {
  const out = sanitize(
    draft({
      apiKey: 'k-1234567890',
      'X-Api-Key': 'k-abcdefghij',
      SecretAccessKey: 'abc/def',
      db_password: 'pw',
      clientSecret: 's',
      customerEmail: 'x',
      password_changed_at: '2026-11-20',
      api_key_hash: 'sha256:abc',
      prompt_tokens: 12,
      passwordless: true,
      token_type: 'bearer',
      emailVerified: false,
      password: null,
      secret: '',
      token: true,
      credentials: { user: 'svc', pass: 'pw' },
      set_cookie: ['a=b'],
      ssn: 78051120,
      card_number: 4111111111111111,
    }),
  );
  const ev = JSON.parse(JSON.stringify(out.event));
  assert.deepEqual(ev, {
    apiKey: '[REDACTED:api_key]',
    'X-Api-Key': '[REDACTED:api_key]',
    SecretAccessKey: '[REDACTED:aws_secret_key]',
    db_password: '[REDACTED:password]',
    clientSecret: '[REDACTED:secret]',
    customerEmail: ev.customerEmail,
    password_changed_at: '2026-11-20',
    api_key_hash: 'sha256:abc',
    prompt_tokens: 12,
    passwordless: true,
    token_type: 'bearer',
    emailVerified: false,
    password: null,
    secret: '',
    token: true,
    credentials: '[REDACTED:credentials]',
    set_cookie: '[REDACTED:cookie]',
    ssn: ev.ssn,
    card_number: ev.card_number,
  });
  assert.match(ev.customerEmail, /^pii:email:/);
  assert.match(ev.ssn, /^pii:ssn:/, 'a number in a PII field is pseudonymized as text');
  assert.match(ev.card_number, /^pii:card:/);
});

test('secrets and PII inside keys: the key is redacted, and its path names the redacted key', () => {
  const out = sanitize(draft({ scores: { 'jane.doe@example.com': 0.9 }, AKIAIOSFODNN7EXAMPLE: { used: true } }));
  const text = JSON.stringify([out.event, out.redactions]);
  assert.ok(!text.includes('jane.doe@example.com') && !text.includes('AKIAIOSFODNN7EXAMPLE'), text);
  assert.deepEqual(
    out.redactions.map((r) => r.kind),
    ['pii:email', 'secret:aws_access_key'],
  );
  assert.match(out.redactions[0]!.path, /^event\.scores\["pii:email:[0-9a-f]{24}"\]\(key\)$/);
  assert.equal(out.redactions[1]!.path, 'event["[REDACTED:aws_access_key]"](key)');
});

test('each change is listed by the full path of its value: keys, odd keys, array indexes, a key that changed', () => {
  const s = withRedact({ fields: [{ path: 'event.items[*].owner', kind: 'pii:name' }] }, KEY, { maxDepth: 3, maxStringChars: 40, maxItems: 8 });
  const out = s(
    draft({
      a: [{ b: 'mail ann@example.com' }, 'ok', [4012888888881881, 1]],
      'odd key': { 'c d': 'key AKIAIOSFODNN7EXAMPLE' },
      p: { 'q\u0007': { r: 'bell\u0007', n: Number.POSITIVE_INFINITY } },
      items: [{ owner: 'Ann Example' }],
      deep: { x: { y: { z: 1 } } },
      long: `${'x'.repeat(50)} ann@example.com`,
      wide: [1, 2, 3, 4, 5, 6, 7, 8, 9],
    }),
  );
  assert.deepEqual(kinds(out), [
    'event.a[0].b pii:email',
    'event.a[2][0] pii:card',
    'event["odd key"]["c d"] secret:aws_access_key',
    'event.p["q\\u0007"](key) control_chars',
    'event.p["q\\u0007"].r control_chars',
    'event.p["q\\u0007"].n non_finite_number',
    'event.items[0].owner pii:name',
    'event.deep.x.y depth_cap',
    'event.long pii:email',
    'event.long string_cap',
    'event.wide items_cap',
  ]);
});

test('card numbers written as JSON numbers are found; other big numbers are not', () => {
  const out = sanitize(draft({ a: 4012888888881881, b: 1795176000000, c: 4012888888881882, d: 1e300 }));
  assert.match(out.event.a as string, /^pii:card:/);
  assert.deepEqual(kinds(out), ['event.a pii:card']);
});

test('dead letter: raw (UTF-8 or base64) and reason are redacted, the digest of the original goes, the ack reason too', () => {
  const line = '{"password": "Pl4nted-DL-pass", "mail": "dl@example.com" oops';
  const d = sanitize(parse(raw(line)));
  assert.equal(d.rejected?.code, RejectCode.INVALID_JSON);
  assert.ok(!visible(d).includes('Pl4nted-DL-pass') && !visible(d).includes('dl@example.com'), visible(d));
  assert.equal(d.event.raw_sha256, null, 'a SHA-256 of the original line would let anyone test guesses of the removed parts');
  assert.deepEqual(kinds(d), ['event.raw secret:password', 'event.raw pii:email', 'event.raw_sha256 digest_removed']);
  assert.ok(!String(d.event.reason).includes('oops'), 'the JSON error no longer quotes the input');

  const bin = Buffer.concat([Buffer.from('{"k": "AKIAIOSFODNN7EXAMPLE", "x": "'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
  const b = sanitize(parse(raw(bin)));
  assert.equal(b.event.raw_encoding, 'base64');
  const bytes = Buffer.from(b.event.raw as string, 'base64');
  assert.ok(!bytes.includes('AKIAIOSFODNN7EXAMPLE') && bytes.includes('[REDACTED:aws_access_key]'));
  assert.ok(bytes.includes(Buffer.from([0xff, 0xfe])), 'the other bytes are kept exactly');
  assert.deepEqual(kinds(b), ['event.raw secret:aws_access_key', 'event.raw_sha256 digest_removed']);

  const clean = parse(raw('not json at all'));
  assert.equal(sanitize(clean), clean, 'a dead-letter entry with nothing to redact is untouched');
});

test('dead letter: a value cut before its closing quote is redacted, in a line that is whole or cut', () => {
  const secret = 'AbCdEf0123456789xyzSECRET';
  for (const line of [`{"api_key":"${secret}`, `{"a":1, "password": "${secret} and more`, `x \\"client_secret\\": \\"${secret}`]) {
    const d = sanitize(parse(raw(line)));
    assert.ok(!visible(d).includes(secret.slice(0, 12)), `${line}: ${visible(d)}`);
    assert.ok(
      d.redactions.some((r) => r.path === 'event.raw' && r.kind.startsWith('secret:')),
      `${line}: ${kinds(d)}`,
    );
    assert.equal(d.event.raw_sha256, null);
  }
});

test('dead letter: a line cut short loses its last, partial token, and its digest', () => {
  const secret = 'ghp_Pl4nt3dGitHubTok';
  for (const cut of [{ unterminated: true as const }, { oversize: { length: 9_000_000, sha256: 'ab'.repeat(32) } }]) {
    const d = sanitize(parse({ ...raw(`{"note": "rotated key ${secret}`), ...cut }));
    assert.ok(d.rejected);
    assert.equal(d.event.raw, '{"note": "rotated key ', JSON.stringify(cut));
    assert.equal(d.event.raw_sha256, null, 'no digest of bytes that were not kept');
    assert.deepEqual(kinds(d), ['event.raw cut_token']);
  }
  // Cut on a separator: nothing to drop; a line never finished keeps its digest when nothing was redacted.
  const whole = parse({ ...raw('{"note": "ok", '), unterminated: true });
  assert.equal(whole.event.raw, '{"note": "ok", ');
  assert.match(whole.event.raw_sha256 as string, /^[0-9a-f]{64}$/);
  assert.deepEqual(kinds(whole), []);
});

test('dead letter: bytes that are not text (UTF-16, binary) keep only their length', () => {
  const utf16 = Buffer.from('{"password": "Pl4nted-UTF16-pass"}', 'utf16le');
  const d = sanitize(parse(raw(utf16)));
  assert.equal(d.event.raw, null);
  assert.equal(d.event.raw_encoding, 'omitted');
  assert.equal(d.event.raw_bytes, utf16.length);
  assert.equal(d.event.raw_sha256, null);
  assert.deepEqual(kinds(d), ['event.raw not_text']);
});

test('redaction happens before the string cap: a secret across the cut leaves no part behind', () => {
  const s = withRedact({}, KEY, { maxDepth: 4, maxStringChars: 40, maxItems: 5 });
  const secret = 'ghp_Pl4nt3dGitHubToken0123456789abcdefAB';
  const out = s(draft({ m: `${'x'.repeat(30)} ${secret}`, deep: { a: { b: { c: { d: 'AKIAIOSFODNN7EXAMPLE' } } } } }));
  assert.equal(out.event.m, `${'x'.repeat(30)} [REDACTED`);
  assert.ok(!JSON.stringify(out.event).includes('Pl4nt3d') && !JSON.stringify(out.event).includes('AKIA'));
  assert.deepEqual(kinds(out), ['event.m secret:github_token', 'event.m string_cap', 'event.deep.a.b.c depth_cap']);
});

test('a config the redactor cannot compile is refused with E_CONFIG_INVALID naming the rule', () => {
  const bad: [Partial<RedactConfig>, RegExp][] = [
    [{ fields: [{ key: '(', kind: 'pii:x' }] }, /fields\[0\]\.key does not compile/],
    [{ fields: [{ path: 'payload.x', kind: 'pii:x' }] }, /must start with 'event'/],
    [{ fields: [{ path: 'event.items[*]', kind: 'pii:x' }] }, /must end in a field name/],
    [{ fields: [{ path: 'event.a..b', kind: 'pii:x' }] }, /cannot read it/],
    [{ fields: [{ key: 'a', path: 'event.a', kind: 'pii:x' }] }, /exactly one of key or path/],
    [{ fields: [{ key: 'a' }] }, /a kind or an action/],
    [{ patterns: [{ kind: 'secret:x', regex: '[' }] }, /patterns\[0\]\.regex does not compile/],
    [{ patterns: [{ kind: 'secret:x', regex: 'a*' }] }, /matches the empty string/],
    [{ patterns: [{ kind: 'secret:x', regex: '(a)\\1' }] }, /backreferences/],
  ];
  for (const [over, msg] of bad)
    assert.throws(
      () => withRedact(over),
      (err: any) => err.code === 'E_CONFIG_INVALID' && msg.test(err.message),
      msg.source,
    );
});

test('extra patterns join the same scan; a custom kind keeps the pii:/secret: prefix', () => {
  const s = withRedact({
    patterns: [
      { kind: 'secret:hf_token', regex: '\\bhf_[A-Za-z]{34}\\b' },
      { kind: 'pii:employee_id', regex: '\\bEMP-(\\d{6})\\b', action: 'mask' },
    ],
  });
  const out = s(draft({ m: 'hf_abcdefghijklmnopqrstuvwxyzABCDEFGH for EMP-123456 at jane@example.com' }));
  assert.match(out.event.m as string, /^\[REDACTED:hf_token\] for \*\*\* at pii:email:[0-9a-f]{24}$/);
  assert.deepEqual(kinds(out), ['event.m secret:hf_token', 'event.m pii:employee_id', 'event.m pii:email']);
});

test('redact.enabled: false leaves secrets to the producer (caps and control characters still apply)', () => {
  const off = createSanitizer(LIMITS);
  const d = draft({ password: 'x', m: 'jane@example.com' });
  assert.equal(off(d), d);
});

test('hostile strings stay linear: a megabyte of near-misses is scanned in bounded time', () => {
  const N = 1 << 20;
  const rep = (u: string) => u.repeat(Math.ceil(N / u.length)).slice(0, N);
  const t0 = performance.now();
  for (const u of ['a.', 'a@', '4 ', '4-', 'eyJ-', 'sk-', 'token=', 'a://b:', '1::', '-----BEGIN PRIVATE KEY-----', '1.', '+1 ', 'password="']) {
    sanitize(draft({ v: rep(u) }));
  }
  // A quadratic pattern would take minutes here; linear ones take well under a second on a slow machine.
  assert.ok(performance.now() - t0 < 20_000, `took ${performance.now() - t0} ms`);
});

test('every kind a detector reports has a default, and config/sealog.yaml documents each with it', () => {
  for (const t of DETECTED_TYPES) assert.ok(Object.hasOwn(KINDS, t), t);
  const yaml = parseYaml(readFileSync(resolve(FIXTURES, '../../config/sealog.yaml'), 'utf8')) as { redact: { kinds: Record<string, string> } };
  assert.deepEqual(Object.keys(yaml.redact.kinds).sort(), [...BUILTIN_TYPES].sort());
  for (const t of BUILTIN_TYPES) assert.equal(yaml.redact.kinds[t], KINDS[t].action, t);
  for (const t of BUILTIN_TYPES)
    assert.equal(KINDS[t].cls === 'pii', KINDS[t].action === 'pseudonymize', `${t}: secrets removed, PII pseudonymized by default`);
});

test('the redact section is checked with the rest of the config: a typo in a kind or an action is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealog-redact-cfg-'));
  try {
    const f = join(dir, 'c.yaml');
    writeFileSync(
      f,
      'redact:\n  kinds:\n    emial: remove\n    phone: hash\n  fields:\n    - { key: x, action: delete }\n  patterns:\n    - { kind: "api", regex: "x" }\n',
    );
    assert.throws(
      () => loadConfig(f),
      (err: any) => {
        assert.equal(err.code, 'E_CONFIG_INVALID');
        for (const where of ["'emial'", 'redact.kinds.phone', 'redact.fields.0.action', 'redact.patterns.0.kind'])
          assert.ok(err.message.includes(where), `${where} in ${err.message}`);
        return true;
      },
    );
  } finally {
    rmSync(dir, { recursive: true });
  }
});
