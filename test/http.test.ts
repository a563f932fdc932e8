import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, client, harness, readRecords, ROOT, writeConfig } from './helpers/daemon.js';
import { call, roleTokens, ROLE_NAMES, type RoleName } from './helpers/http.js';

const h = harness();
const FIXTURES = join(ROOT, 'test/fixtures');

test('token create prints a token once and stores only its SHA-256 (0600); list shows no hash; revoke stops it within a second', async () => {
  const t = h.fresh();
  const made = cli(['token', 'create', '--role', 'auditor', '--name', 'ann', '--data', t.data]);
  assert.equal(made.code, 0, made.stderr);
  const token = made.stdout.trim();
  assert.match(token, /^slg_[A-Za-z0-9_-]{43}$/);
  const file = join(t.data, 'keys/tokens.json');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const stored = readFileSync(file, 'utf8');
  assert.ok(!stored.includes(token.slice(4)), 'the token itself is not in the file');
  assert.ok(stored.includes(spawnSync('sh', ['-c', `printf %s '${token}' | sha256sum`], { encoding: 'utf8' }).stdout.slice(0, 64)));
  const list = cli(['token', 'list', '--json', '--data', t.data]);
  assert.equal(list.code, 0);
  const entry = JSON.parse(list.stdout.trim());
  assert.deepEqual([entry.name, entry.role, entry.sha256], ['ann', 'auditor', undefined]);
  assert.notEqual(cli(['token', 'create', '--role', 'king', '--data', t.data]).code, 0);
  assert.notEqual(cli(['token', 'create', '--role', 'auditor', '--name', 'ann', '--data', t.data]).code, 0, 'names are unique');

  const d = await h.start(t);
  assert.equal((await call(d.http!, '/api/v1/overview', { token })).status, 200);
  assert.equal(cli(['token', 'revoke', 'ann', '--data', t.data]).code, 0);
  const deadline = Date.now() + 5000;
  let status = 200;
  while (status === 200 && Date.now() < deadline) status = (await call(d.http!, '/api/v1/overview', { token })).status;
  assert.equal(status, 401);
  assert.equal(cli(['token', 'revoke', 'ann', '--data', t.data]).code, 1, 'revoking an unknown token fails');
  assert.equal(await d.stop(), 0);
});

// [method, path, access, body?, content type?]: the role matrix of DESIGN §12, as the API must apply it.
type Access = 'public' | 'any' | 'read' | 'operate' | 'ingest';
const ROUTES: [string, string, Access, string?, string?][] = [
  ['GET', '/healthz', 'public'],
  ['GET', '/readyz', 'public'],
  ['GET', '/', 'public'],
  ['GET', '/ui/app.js', 'public'],
  ['GET', '/api/v1/openapi.json', 'public'],
  ['GET', '/api/v1/whoami', 'any'],
  ['GET', '/metrics', 'operate'],
  ['GET', '/api/v1/status', 'operate'],
  ['GET', '/api/v1/overview', 'read'],
  ['GET', '/api/v1/checkpoint', 'read'],
  ['GET', '/api/v1/records?limit=5', 'read'],
  ['GET', '/api/v1/records/0', 'read'],
  ['GET', '/api/v1/tile/0/000.p/1', 'read'],
  ['GET', '/api/v1/tile/entries/000.p/1', 'read'],
  ['GET', '/api/v1/reports/alcoa', 'read'],
  ['GET', '/api/v1/integrity', 'read'],
  ['POST', '/api/v1/integrity/verify', 'operate'],
  ['GET', '/api/v1/holds', 'operate'],
  ['POST', '/api/v1/holds', 'operate', '{"stream":"audit","reason":"matrix test"}', 'application/json'],
  ['DELETE', '/api/v1/holds/hold-none?reason=matrix', 'operate'],
  ['POST', '/api/v1/events', 'ingest', '{"n":1}\n', 'application/x-ndjson'],
  ['POST', '/v1/logs', 'ingest', '{"resourceLogs":[]}', 'application/json'],
];
const MAY: Record<Exclude<Access, 'public' | 'any'>, RoleName[]> = {
  read: ['auditor', 'operator', 'admin'],
  operate: ['operator', 'admin'],
  ingest: ['producer', 'admin'],
};

test('every route x every role: allowed, or 401 without a token and 403 for a role the matrix refuses, with a coded error', async () => {
  const t = h.fresh();
  const tokens = roleTokens(t);
  const d = await h.start(t, 'checkpoint: { every_records: 1 }');
  // A record and a checkpoint, so read routes have something to answer with.
  await call(d.http!, '/api/v1/events', { token: tokens.producer, body: '{"hello":"world"}\n', type: 'application/x-ndjson' });
  const checked: string[] = [];
  for (const [method, path, access, body, type] of ROUTES) {
    const anon = await call(d.http!, path, { method, body, type });
    if (access === 'public') assert.ok(anon.status < 400, `${method} ${path} without token: ${anon.status} ${anon.text.slice(0, 200)}`);
    else {
      assert.equal(anon.status, 401, `${method} ${path} without token`);
      assert.equal(anon.json.error.code, 'E_HTTP_UNAUTHORIZED');
      assert.equal((await call(d.http!, path, { method, body, type, token: 'slg_not-a-token' })).status, 401);
    }
    for (const role of ROLE_NAMES) {
      const r = await call(d.http!, path, { method, body, type, token: tokens[role] });
      const allowed = access === 'public' || access === 'any' || MAY[access].includes(role);
      // Allowed: past the auth hook (a 404 for a hold that does not exist, a 409 for a sweep with nothing to sweep are answers too).
      if (allowed) assert.ok(![401, 403].includes(r.status) && r.status < 500, `${role} ${method} ${path}: ${r.status} ${r.text.slice(0, 200)}`);
      else {
        assert.equal(r.status, 403, `${role} ${method} ${path}`);
        assert.equal(r.json.error.code, 'E_HTTP_FORBIDDEN');
      }
      checked.push(`${role} ${method} ${path} ${r.status}`);
    }
  }
  assert.equal(checked.length, ROUTES.length * ROLE_NAMES.length);
  assert.equal(await d.stop(), 0);
});

test('bad input gets a 4xx with a code, and the daemon goes on serving the socket and the API', async () => {
  const t = h.fresh();
  const { admin } = roleTokens(t);
  const d = await h.start(t, 'http: { max_body_bytes: 4096 }');
  const base = d.http!;
  const cases: [string, Parameters<typeof call>[2], number, string][] = [
    ['oversized body', { body: Buffer.alloc(10_000, 'a'), type: 'application/x-ndjson' }, 413, 'E_HTTP_BODY_TOO_LARGE'],
    ['bad JSON (OTLP)', { body: '{"resourceLogs": [', type: 'application/json' }, 400, 'E_HTTP_BAD_JSON'],
    ['OTLP of the wrong shape', { body: '{"resourceLogs": 7}', type: 'application/json' }, 400, 'E_HTTP_BAD_REQUEST'],
    ['events as application/json', { body: '{"a":1}', type: 'application/json' }, 415, 'E_HTTP_UNSUPPORTED_MEDIA_TYPE'],
  ];
  for (const [what, o, status, code] of cases) {
    const path = what.includes('OTLP') ? '/v1/logs' : '/api/v1/events';
    const r = await call(base, path, { ...o, token: admin });
    assert.equal(r.status, status, `${what}: ${r.text}`);
    assert.equal(r.json.error.code, code, what);
    assert.equal(typeof r.json.error.message, 'string');
  }
  const unknownField = await call(base, '/api/v1/overview?colour=red', { token: admin });
  assert.equal(unknownField.status, 400);
  assert.equal(unknownField.json.error.code, 'E_HTTP_BAD_REQUEST');
  const badMode = await call(base, '/api/v1/integrity/verify?mode=sideways', { token: admin, method: 'POST' });
  assert.equal(badMode.json.error.code, 'E_HTTP_BAD_REQUEST');
  const badHold = await call(base, '/api/v1/holds', { token: admin, body: '{"reason":"no criteria"}', type: 'application/json' });
  assert.equal(badHold.status, 400);
  const unknown = await call(base, '/api/v1/nothing-here', { token: admin });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json.error.code, 'E_HTTP_NOT_FOUND');

  // Unaffected: the socket still takes and commits events, the API still answers.
  const c = await client(t.socket);
  await c.send(['{"after":"bad input"}']);
  await c.waitFor(() => c.committed === 1, 'socket commit');
  await c.end();
  assert.equal((await call(base, '/readyz')).status, 200);
  assert.equal(await d.stop(), 0);
});

test('a client that sends its request too slowly is cut off at request_timeout_ms', async () => {
  const t = h.fresh();
  const d = await h.start(t, 'http: { request_timeout_ms: 300, idle_timeout_ms: 10000 }');
  const { port } = new URL(d.http!);
  const sock = connect(Number(port), '127.0.0.1');
  sock.on('error', () => {});
  const { producer } = roleTokens(t);
  sock.write(
    `POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${producer}\r\nContent-Type: application/x-ndjson\r\nContent-Length: 100\r\n\r\n{"a":`,
  );
  const started = Date.now();
  let got = '';
  sock.on('data', (b) => (got += b));
  await new Promise((r) => sock.once('close', r));
  assert.ok(Date.now() - started < 5000, 'closed by the server, not left hanging');
  assert.match(got, /^HTTP\/1\.1 408 /);
  assert.equal(JSON.parse(got.slice(got.indexOf('\r\n\r\n') + 4)).error.code, 'E_HTTP_TIMEOUT');
  assert.equal((await call(d.http!, '/healthz')).status, 200);
  assert.equal(await d.stop(), 0);
});

test('POST /api/v1/events answers only after commit: kill -9 right after the 200 loses nothing', async () => {
  const t = h.fresh();
  const { producer } = roleTokens(t);
  const d = await h.start(t);
  const body = Array.from({ length: 500 }, (_, i) => JSON.stringify({ n: i, event_id: `e-${i}`, msg: 'acked after commit' })).join('\n');
  const r = await call(d.http!, '/api/v1/events', { token: producer, body: `${body}\n{not json\n`, type: 'application/x-ndjson' });
  assert.equal(r.status, 200, r.text);
  await d.kill();
  assert.equal(r.json.committed, 500);
  assert.deepEqual(
    r.json.rejected.map((x: { line: number; code: string }) => [x.line, x.code]),
    [[501, 'E_INVALID_JSON']],
  );
  const records = readRecords(t);
  const mine = records.filter((x) => x.source.kind === 'http');
  assert.equal(mine.filter((x) => x.stream !== 'rejected').length, 500);
  assert.equal(mine.find((x) => x.stream === 'rejected')!.source.line, 501);
  assert.equal(mine[0].source.token, 'test-producer', 'the token name is in the record: who sent it');
  assert.equal(r.json.last_seq, Math.max(...mine.map((x) => x.seq)));

  // After a restart, the same events again are duplicates (same dedupe as the socket).
  const d2 = await h.start(t);
  const again = await call(d2.http!, '/api/v1/events', { token: producer, body: `${body}\n`, type: 'application/x-ndjson' });
  assert.equal(again.json.duplicates, 500);
  assert.equal(again.json.committed, 0);
  assert.equal(await d2.stop(), 0);
});

test('OTLP/HTTP JSON: the spec example is accepted and mapped (resource, scope, severity, trace ids); a bad LogRecord is a partial success', async () => {
  const t = h.fresh();
  const { producer } = roleTokens(t);
  const d = await h.start(t);
  const example = readFileSync(join(FIXTURES, 'otlp-logs.json'), 'utf8');
  const ok = await call(d.http!, '/v1/logs', { token: producer, body: example, type: 'application/json' });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.json, {});
  const withBad = JSON.parse(example);
  withBad.resourceLogs[0].scopeLogs[0].logRecords.push('not a record', { severityText: 'WARN', body: { stringValue: 'second' } });
  const partial = await call(d.http!, '/v1/logs', { token: producer, body: JSON.stringify(withBad), type: 'application/json' });
  assert.equal(partial.status, 200);
  assert.equal(partial.json.partialSuccess.rejectedLogRecords, 1);
  assert.match(partial.json.partialSuccess.errorMessage, /E_NOT_OBJECT/);
  assert.equal(await d.stop(), 0);
  const otlp = readRecords(t).filter((r) => r.source.kind === 'otlp');
  assert.equal(otlp.length, 4);
  const first = otlp[0];
  assert.equal(first.level, 'info');
  assert.equal(first.type, 'otel.log');
  assert.equal(first.event.body, 'Example log record');
  assert.equal(first.event.trace_id, '5b8efff798038103d269b633813fc60c');
  assert.equal(first.event.span_id, 'eee19b7ec3c1b174');
  assert.equal(first.event.timestamp, '2018-12-13T14:51:00.300000Z');
  assert.deepEqual(first.event.otel.resource, { 'service.name': 'my.service' });
  assert.deepEqual(first.event.otel.scope, { name: 'my.library', version: '1.0.0', attributes: { 'my.scope.attribute': 'some scope attribute' } });
  assert.deepEqual(first.event.attributes, {
    'string.attribute': 'some string',
    'boolean.attribute': true,
    'int.attribute': 10,
    'double.attribute': 637.704,
    'array.attribute': ['many', 'values'],
    'map.attribute': { 'some.map.key': 'some value' },
  });
  assert.equal(otlp.find((r) => r.stream === 'rejected')!.source.line, 2);
  assert.equal(otlp[3].level, 'warn');
});

test('503 + Retry-After when http.max_ingest_requests are open, never a queue', async () => {
  const t = h.fresh();
  const { producer, admin } = roleTokens(t);
  // One record per frame, each fsync'd: the first request stays open long enough to be seen.
  const d = await h.start(t, 'http: { max_ingest_requests: 1 }\nbatch: { max_records: 1 }');
  const big = `${Array.from({ length: 3000 }, (_, i) => `{"n":${i}}`).join('\n')}\n`;
  const first = call(d.http!, '/api/v1/events', { token: producer, body: big, type: 'application/x-ndjson' });
  let second: Awaited<ReturnType<typeof call>> | undefined;
  for (let i = 0; i < 500 && !second; i++) {
    const s = await call(d.http!, '/api/v1/status', { token: admin });
    if (s.json.http.ingest_requests_open > 0)
      second = await call(d.http!, '/api/v1/events', { token: producer, body: '{"late":true}\n', type: 'application/x-ndjson' });
  }
  assert.ok(second, 'the first request was seen open');
  assert.equal(second!.status, 503, second!.text);
  assert.equal(second!.json.error.code, 'E_HTTP_BUSY');
  assert.equal(second!.headers.get('retry-after'), '1');
  assert.equal((await first).json.committed, 3000);
  assert.equal(await d.stop(), 0);
});

test('listen rules: plaintext off loopback is refused unless allowed; TLS serves https; enabled: false serves nothing', async () => {
  const t = h.fresh();
  const refused = cli(['validate', '--config', writeConfig(t, 'http: { listen: "0.0.0.0:8470" }')]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /not a loopback address/);
  assert.equal(cli(['validate', '--config', writeConfig(t, 'http: { listen: "0.0.0.0:8470", allow_plaintext_remote: true }')]).code, 0);
  assert.match(cli(['validate', '--config', writeConfig(t, 'http: { tls: { cert: "/x.pem" } }')]).stderr, /both cert and key/);

  const cert = join(t.dir, 'cert.pem');
  const key = join(t.dir, 'key.pem');
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(made.status, 0, made.stderr);
  const d = await h.start(t, `http: { tls: { cert: "${cert}", key: "${key}" } }`);
  assert.match(d.http!, /^https:\/\/127\.0\.0\.1:\d+$/);
  const body = await new Promise<string>((resolve, reject) => {
    const req = httpsRequest(`${d.http}/healthz`, { ca: readFileSync(cert) }, (res) => {
      let s = '';
      res.on('data', (c) => (s += c));
      res.on('end', () => resolve(s));
    });
    req.on('error', reject);
    req.end();
  });
  assert.deepEqual(JSON.parse(body), { status: 'ok' });
  assert.equal(await d.stop(), 0);

  const off = await h.start(t, 'http: { enabled: false }');
  assert.equal(off.http, undefined);
  assert.ok(!off.stderr().includes('HTTP API'));
  assert.equal(await off.stop(), 0);
});
