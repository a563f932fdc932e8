import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkHttpConfig, isLoopback } from '../../src/http/listen.js';
import { openapiDocument } from '../../src/http/openapi.js';
import { anyValue, nanosIso, otlpEvents, severityLevel } from '../../src/http/otlp.js';
import { allows, MATRIX, ROLES } from '../../src/http/roles.js';
import { loadConfig } from '../../src/config.js';

const ROOT = join(import.meta.dirname, '../../..');

test('docs/openapi.json is the document the route schemas generate (run scripts/openapi.mjs after changing a route)', async () => {
  const doc = await openapiDocument();
  assert.deepEqual(JSON.parse(readFileSync(join(ROOT, 'docs/openapi.json'), 'utf8')), JSON.parse(JSON.stringify(doc)));
  // Every operation declares its responses, errors included.
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>)) {
    for (const [method, op] of Object.entries(ops)) {
      assert.ok(op.responses['200'] ?? op.responses['202'], `${method} ${path} has a success schema`);
      assert.ok(op.responses['4XX'] ?? op.responses['4xx'], `${method} ${path} has the error schema`);
    }
  }
});

test('the role matrix: auditor reads, operator reads and operates, producer only ingests, admin everything', () => {
  assert.deepEqual(
    ROLES.filter((r) => allows(r, 'read')),
    ['auditor', 'operator', 'admin'],
  );
  assert.deepEqual(
    ROLES.filter((r) => allows(r, 'operate')),
    ['operator', 'admin'],
  );
  assert.deepEqual(
    ROLES.filter((r) => allows(r, 'ingest')),
    ['producer', 'admin'],
  );
  assert.ok(ROLES.every((r) => allows(r, 'any') && allows(r, 'public')));
  assert.deepEqual(Object.keys(MATRIX).sort(), ['ingest', 'operate', 'read']);
});

test('listen rules: loopback addresses, plaintext off loopback refused unless allowed, TLS needs both files', () => {
  for (const h of ['127.0.0.1', '127.8.9.10', '::1', 'localhost']) assert.ok(isLoopback(h), h);
  for (const h of ['0.0.0.0', '10.0.0.1', '::', 'example.com', '128.0.0.1']) assert.ok(!isLoopback(h), h);
  const base = loadConfig(undefined).http;
  assert.deepEqual(checkHttpConfig(base), []);
  assert.match(checkHttpConfig({ ...base, listen: '0.0.0.0:8470' })[0]!, /not a loopback address/);
  assert.deepEqual(checkHttpConfig({ ...base, listen: '0.0.0.0:8470', allow_plaintext_remote: true }), []);
  assert.deepEqual(checkHttpConfig({ ...base, listen: '[::]:8470', tls: { cert: '/c.pem', key: '/k.pem' } }), []);
  assert.deepEqual(checkHttpConfig({ ...base, enabled: false, listen: '0.0.0.0:1' }), []);
  assert.match(checkHttpConfig({ ...base, tls: { cert: '/c.pem', key: '' } })[0]!, /both cert and key/);
  assert.match(checkHttpConfig({ ...base, listen: '127.0.0.1:70000' })[0]!, /out of range/);
});

test('OTLP mapping: severity numbers and texts to levels, AnyValue to JSON, nanoseconds to ISO with microseconds', () => {
  assert.deepEqual(
    [1, 4, 5, 9, 12, 13, 17, 21, 24].map((n) => severityLevel(n, undefined)),
    ['trace', 'trace', 'debug', 'info', 'info', 'warn', 'error', 'fatal', 'fatal'],
  );
  assert.equal(severityLevel(0, 'WARNING'), 'warn');
  assert.equal(severityLevel(undefined, 'Error2'), 'error');
  assert.equal(severityLevel(25, 'loud'), undefined);
  assert.equal(anyValue({ intValue: '9007199254740993' }), '9007199254740993', 'past 2^53 stays a string');
  assert.equal(anyValue({ intValue: '-12' }), -12);
  assert.deepEqual(
    anyValue({
      kvlistValue: {
        values: [
          { key: '__proto__', value: { stringValue: 'x' } },
          { key: 'a', value: { boolValue: false } },
        ],
      },
    }),
    { a: false },
  );
  assert.equal(anyValue({ doubleValue: 'NaN' }), null);
  assert.equal(nanosIso('1544712660300000000'), '2018-12-13T14:51:00.300000Z');
  assert.equal(nanosIso('1544712660300123456'), '2018-12-13T14:51:00.300123Z');
  assert.equal(nanosIso('0'), undefined);
  assert.equal(nanosIso('not a number'), undefined);
  assert.deepEqual(otlpEvents({}), []);
  assert.equal(typeof otlpEvents({ resourceLogs: [{ scopeLogs: 'x' }] }), 'string');
  const items = otlpEvents({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'hi' }, severityNumber: 13 }, 3] }] }] });
  assert.ok(Array.isArray(items));
  assert.equal((items as { event?: { level?: string } }[])[0]!.event!.level, 'warn');
  assert.deepEqual((items as { raw?: unknown }[])[1]!.raw, 3);
});

test('metrics are read at scrape time from the status registry and EventCounts: counters by source and code, sink lag, health', async () => {
  const { Metrics } = await import('../../src/http/metrics.js');
  const { Status } = await import('../../src/status.js');
  const { EventCounts } = await import('../../src/eventCounts.js');
  const status = new Status();
  const counts = new EventCounts();
  const m = new Metrics();
  m.attach({
    counts,
    status,
    treeSize: () => 42,
    progress: () => ({ lastCommitAt: 0, lastCheckpointAt: 0, checkpointSize: 40 }),
    segment: () => ({ n: 3, bytes: 1000 }),
  });
  counts.received('http');
  counts.received('http');
  counts.durable([
    { seq: 0, hash: Buffer.alloc(32), line: Buffer.alloc(1), source: { kind: 'http' } },
    { seq: 1, hash: Buffer.alloc(32), line: Buffer.alloc(1), source: { kind: 'http' }, rejected: { code: 'E_INVALID_JSON', reason: 'x' } },
  ]);
  status.section('sinks', () => ({ central: { lag_records: 5, lag_seconds: 1.5, cursor: 36 } }));
  status.setHealth('disk', 'unhealthy', 'full');
  m.observe.commit(0.004);
  const text = await m.scrape();
  for (const line of [
    'sealog_events_in_total{source="http"} 2',
    'sealog_events_committed_total{source="http"} 1',
    'sealog_events_rejected_total{source="http"} 1',
    'sealog_rejected_total{code="E_INVALID_JSON"} 1',
    'sealog_tree_size 42',
    'sealog_checkpoint_size 40',
    'sealog_sink_lag_records{sink="central"} 5',
    'sealog_sink_lag_seconds{sink="central"} 1.5',
    'sealog_health 2',
    'sealog_commit_latency_seconds_count 1',
    'sealog_segment_open_bytes 1000',
  ]) {
    assert.ok(text.includes(`${line}\n`), `${line} in\n${text}`);
  }
  assert.equal(m.commitP99(), 0.004);
});
