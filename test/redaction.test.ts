import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { client, readRecords, ROOT, startDaemon, tmp, verify, type Running, type Tmp } from './helpers/daemon.js';

// The planted corpus through the real daemon: events, lines that are not JSON (dead letter),
// a line that is not UTF-8 (kept as base64) and an oversize one (its head kept). Then every
// planted value is searched for in the decompressed segments and the daemon's own log.

const FIXTURES = join(ROOT, 'test/fixtures');
const validLines = readFileSync(join(FIXTURES, 'planted.jsonl'), 'utf8').trim().split('\n');
const invalidLines = readFileSync(join(FIXTURES, 'planted.invalid.txt'), 'utf8').trim().split('\n');
const planted = JSON.parse(readFileSync(join(FIXTURES, 'planted.values.json'), 'utf8')) as { value: string; kind: string }[];
const OVERSIZE = { value: 'AKIAOVERSIZEPLANTED1', kind: 'secret:aws_access_key' };

const tmps: Tmp[] = [];
const daemons: Running[] = [];
after(async () => {
  for (const d of daemons) if (d.proc.exitCode === null && d.proc.signalCode === null) await d.kill();
  for (const t of tmps) t.cleanup();
});
const fresh = () => {
  const t = tmp();
  tmps.push(t);
  return t;
};

/** The decompressed bytes of every segment, as `lz4 -dc` gives them. */
function segmentText(t: Tmp): string {
  const r = spawnSync('sh', ['-c', `cat "${t.data}"/segments/*.seg.lz4 | lz4 -dc`], { encoding: 'utf8', maxBuffer: 1 << 30 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}
const forms = (v: string) => [v, JSON.stringify(v).slice(1, -1)];

test('[URS-GDPR-030] no planted secret or PII reaches the segments, the dead letter, the acks or the daemon log; each is listed', async () => {
  const t = fresh();
  const d = await startDaemon(t, 'socket:\n  max_line_bytes: 2048\n');
  daemons.push(d);
  const c = await client(t.socket);
  const notUtf8 = Buffer.concat([Buffer.from(invalidLines[0]!), Buffer.from([0xff, 0xfe, 0x0a])]);
  const oversize = `{"note": "key ${OVERSIZE.value} in a long line", "pad": "${'x'.repeat(3000)}"}`;
  const lines: (string | Buffer)[] = [...validLines, ...invalidLines, notUtf8, oversize];
  const text = (l: string | Buffer) => (Buffer.isBuffer(l) ? l.toString('latin1') : l);
  await c.send(lines);
  const rejects = invalidLines.length + 2;
  await c.waitFor(() => c.committed === validLines.length && c.acks.filter((a) => a.ack === 'rejected').length === rejects, 'every line acknowledged');
  await c.end();
  assert.equal(await d.stop(), 0);

  const all = [...planted, OVERSIZE];
  // Searched in the bytes as stored, in base64 dead-letter entries decoded, in the acks and in stderr.
  const records = readRecords(t);
  const stored = [
    segmentText(t),
    ...records.filter((r) => r.event?.raw_encoding === 'base64').map((r) => Buffer.from(r.event.raw, 'base64').toString('latin1')),
  ].join('\n');
  const acks = JSON.stringify(c.acks);
  const log = d.stderr();
  assert.ok(stored.includes('GAMP 5 category 4 examples') && log.includes('sealog ready'), 'the search looks at the real bytes');
  for (const { value } of all) {
    for (const f of forms(value)) {
      assert.ok(!stored.includes(f), `${value} is in the segments`);
      assert.ok(!acks.includes(f), `${value} is in an ack`);
      assert.ok(!log.includes(f), `${value} is in the daemon's log`);
    }
  }

  // Line 1 of the connection is the ack handshake: sent line i is source line i + 2.
  const bySourceLine = new Map(records.filter((r) => r.source?.kind === 'socket').map((r) => [r.source.line as number, r]));
  let checked = 0;
  lines.forEach((l, i) => {
    const r = bySourceLine.get(i + 2);
    assert.ok(r, `a record for sent line ${i + 1}`);
    for (const { value, kind } of all) {
      if (!forms(value).some((f) => text(l).includes(f))) continue;
      assert.ok(
        r.redactions.some((x: { kind: string }) => x.kind === kind),
        `line ${i + 1} lists ${kind} for ${value}: ${JSON.stringify(r.redactions)}`,
      );
      checked++;
    }
  });
  assert.ok(checked >= all.length, 'every planted value was checked in at least one record');

  const rejected = records.filter((r) => r.stream === 'rejected');
  assert.deepEqual(rejected.map((r) => r.event.code).sort(), [...invalidLines.map(() => 'E_INVALID_JSON'), 'E_INVALID_UTF8', 'E_LINE_TOO_LONG'].sort());
  for (const r of rejected) {
    assert.ok(
      r.redactions.some((x: { path: string; kind: string }) => x.path === 'event.raw' && /^(secret|pii):/.test(x.kind)),
      `dead letter ${r.event.code} lists what it redacted`,
    );
    assert.equal(r.event.raw_sha256, null, 'no digest of the original line');
  }
  assert.equal(verify(t, ['--strict']).ok, true, 'the redacted trail verifies');
});

test('the daemon refuses to start without a valid keys/hmac.key, and never prints it', async () => {
  const t = fresh();
  const d = await startDaemon(t);
  daemons.push(d);
  const c = await client(t.socket); // also gives start.ts time to install its SIGTERM handler
  await c.send(['{"customer_email":"jane@example.com"}']);
  await c.waitFor(() => c.committed === 1, 'one event committed');
  await c.end();
  assert.equal(await d.stop(), 0);
  const keyFile = join(t.data, 'keys', 'hmac.key');
  const key = readFileSync(keyFile, 'utf8').trim();
  assert.match(key, /^[0-9a-f]{64}$/);
  assert.ok(!d.stderr().includes(key), 'the key is not logged');

  writeFileSync(keyFile, `${key.slice(0, 40)}\n`, { mode: 0o600 });
  await assert.rejects(
    startDaemon(t),
    (err: Error) => err.message.includes('E_KEY_INVALID') && err.message.includes('64 hex') && !err.message.includes(key.slice(0, 40)),
  );
  rmSync(keyFile);
  await assert.rejects(startDaemon(t), (err: Error) => err.message.includes('E_KEY_MISSING') && err.message.includes('hmac.key'));
});
