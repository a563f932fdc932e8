import assert from 'node:assert/strict';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, client, harness, readRecords, verify, waitUntil } from './helpers/daemon.js';

const { fresh, start } = harness();

const ev = (id: string | number, n: number) => JSON.stringify({ event_id: id, n });

test('dedupe: the same event_id twice on one connection is committed once; the resend is acked with the first seq', async () => {
  const t = fresh();
  const d = await start(t);
  const c = await client(t.socket);
  await c.send([ev('a', 1), '{"plain":1}', ev('a', 1), '{"plain":1}', ev('a', 2)]);
  await c.waitFor(() => c.acks.some((a) => a.ack === 'duplicate') && c.committed === 4, 'acks');
  await c.end();
  // An absorbed resend is settled, not pending: the watchdog must not think the pipeline is stuck.
  const st = cli(['status', '--control', t.socket.replace(/\.sock$/, '.ctl'), '--json']);
  assert.deepEqual(JSON.parse(st.stdout).events.socket, { in: 5, committed: 4, rejected: 0, duplicates: 1, pending: 0 });
  assert.equal(await d.stop(), 0);
  const records = readRecords(t);
  assert.deepEqual(
    records.map((r) => [r.seq, r.event.event_id ?? null, r.event.n ?? null]),
    [
      [0, 'a', 1],
      [1, null, null],
      [2, null, null],
      [3, 'a', 2], // same id, different event: kept
    ],
  );
  const dup = c.acks.find((a) => a.ack === 'duplicate');
  assert.deepEqual(dup, { ack: 'duplicate', line: 4, event_id: 'a', seq: 0 });
  // The commit acks still count only what was sealed, and through_line reaches the last line.
  assert.equal(c.committed, 4);
  assert.equal(c.throughLine, 6);
  // A duplicate ack never comes before the ack of an earlier line of the same sender.
  const order = c.acks.map((a) => (a.ack === 'commit' ? `c${a.through_line}` : `d${a.line}`));
  assert.ok(order.indexOf('d4') > order.findIndex((o) => o.startsWith('c') && Number(o.slice(1)) >= 3), order.join(' '));
  assert.equal(verify(t, ['--strict']).ok, true);
});

test('dedupe: a resend on another connection, and after a SIGKILL restart, is absorbed; sealog send --ack counts it as committed', async () => {
  const t = fresh();
  let d = await start(t);
  const a = await client(t.socket);
  await a.send([ev('x', 1), ev(42, 2)]);
  await a.waitFor(() => a.committed === 2, 'first commit');
  const b = await client(t.socket);
  await b.send([ev('x', 1)]);
  await b.waitFor(() => b.acks.length === 1, 'duplicate ack');
  assert.deepEqual(b.acks[0], { ack: 'duplicate', line: 2, event_id: 'x', seq: 0 });
  await a.end();
  await b.end();
  await d.kill(); // the window must come back from the log
  d = await start(t);
  const r = cli(['send', '--socket', t.socket, '--ack'], `${ev('x', 1)}\n${ev(42, 2)}\n${ev('y', 3)}\n`);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /sent 3, committed 3 \(2 of them committed earlier: same event_id\), rejected 0/);
  assert.equal(await d.stop(), 0);
  const records = readRecords(t).filter((x) => x.source.kind === 'socket');
  assert.deepEqual(
    records.map((x) => x.event.event_id),
    ['x', 42, 'y'],
  );
  const v = verify(t, ['--strict']);
  assert.equal(v.exit, 0, JSON.stringify(v.failure));
});

test('dedupe: disabled, or outside the window, the same id is committed again', async () => {
  const t = fresh();
  let d = await start(t, 'dedupe:\n  enabled: false\n');
  assert.equal(cli(['send', '--socket', t.socket, '--ack'], `${ev('z', 1)}\n${ev('z', 1)}\n`).code, 0);
  assert.equal(await d.stop(), 0);
  assert.equal(readRecords(t).length, 2);
  // Restarted with a window the records are already older than (segments are written a second and more ago).
  await waitUntil(
    () =>
      Date.now() -
        readRecords(t)
          .map((r) => Date.parse(r.ts))
          .reduce((m, x) => Math.max(m, x)) >
      1100,
    'the window to pass',
    5000,
  );
  d = await start(t, 'dedupe:\n  window_seconds: 1\n');
  assert.equal(cli(['send', '--socket', t.socket, '--ack'], `${ev('z', 1)}\n`).code, 0);
  assert.equal(await d.stop(), 0);
  assert.equal(readRecords(t).length, 3);
});

test('dedupe: a spool file repeating an event sent on the socket settles that line as a duplicate', async () => {
  const t = fresh();
  const d = await start(t);
  assert.equal(cli(['send', '--socket', t.socket, '--ack'], `${ev('s', 1)}\n`).code, 0);
  const spool = join(t.dir, 'spool');
  writeFileSync(join(spool, 'f.jsonl.tmp'), `${ev('s', 1)}\n${ev('t', 2)}\n`);
  renameSync(join(spool, 'f.jsonl.tmp'), join(spool, 'f.jsonl'));
  await waitUntil(() => existsSync(join(spool, 'done', 'f.jsonl')), 'the file to be ingested');
  assert.equal(await d.stop(), 0);
  const records = readRecords(t);
  assert.deepEqual(
    records.filter((r) => r.event.event_id !== undefined).map((r) => [r.source.kind, r.event.event_id]),
    [
      ['socket', 's'],
      ['spool', 't'],
    ],
  );
  const done = records.find((r) => r.type === 'sealog.spool.ingested')!;
  assert.deepEqual([done.event.lines, done.event.accepted, done.event.duplicates], [2, 1, 1]);
});

test('dedupe: the window rebuilt at start keeps the newest max_entries ids', async () => {
  const t = fresh();
  const cfg = 'dedupe:\n  max_entries: 2\n';
  let d = await start(t, cfg);
  assert.equal(cli(['send', '--socket', t.socket, '--ack'], `${ev('m1', 1)}\n{"plain":1}\n${ev('m2', 2)}\n${ev('m3', 3)}\n`).code, 0);
  await d.kill();
  d = await start(t, cfg);
  assert.match(d.stderr(), /"ids":2,"candidates":3,.*dedupe window rebuilt from the log/);
  const r = cli(['send', '--socket', t.socket, '--ack'], `${ev('m3', 3)}\n${ev('m2', 2)}\n${ev('m1', 1)}\n`);
  assert.match(r.stderr, /committed 3 \(2 of them committed earlier/);
  assert.equal(await d.stop(), 0);
  assert.deepEqual(
    readRecords(t)
      .filter((x) => x.event.event_id)
      .map((x) => x.event.event_id),
    ['m1', 'm2', 'm3', 'm1'],
  );
});
