import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, cliAsync, client, harness, readRecords, verify } from './helpers/daemon.js';

const { fresh, start } = harness();

test('[URS-P11-050] [URS-ALC-070] send with acks, SIGTERM, restart, send more: one gap-free verified chain', async () => {
  const t = fresh();
  let d = await start(t);
  assert.equal(statSync(t.socket).mode & 0o777, 0o660);
  for (const f of ['signing.key', 'signing.pub', 'hmac.key']) assert.equal(statSync(join(t.data, 'keys', f)).mode & 0o777, 0o600, f);
  const first = cli(['send', '--socket', t.socket, '--ack'], '{"n":1}\n{"n":2}\n\n{"n":3}\n');
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /sent 3, committed 3, rejected 0/);
  assert.equal(await d.stop(), 0);
  assert.equal(verify(t, ['--strict']).ok, true, 'a clean shutdown leaves no unsealed tail');
  d = await start(t);
  const second = cli(['send', '--socket', t.socket, '--ack'], '{"n":4}\n{"n":5}');
  assert.equal(second.code, 0, second.stderr);
  assert.equal(await d.stop(), 0);
  const records = readRecords(t);
  assert.deepEqual(
    records.map((r) => r.seq),
    [0, 1, 2, 3, 4],
  );
  assert.deepEqual(
    records.map((r) => r.event.n),
    [1, 2, 3, 4, 5],
  );
  const { peer, ...where } = records[3]!.source;
  assert.deepEqual(where, { kind: 'socket', conn: 1, line: 2 });
  assert.equal(peer.uid, process.getuid!(), 'the sender as the kernel reports it');
  const v = verify(t, ['--strict']);
  assert.equal(v.exit, 0);
  assert.equal(v.records, 5);
  assert.equal(readdirSync(join(t.data, 'segments')).filter((f) => f.endsWith('.manifest')).length, 2);
});

test('[URS-ALC-060] bad lines from many concurrent clients go to the dead letter with codes; accepted + rejected = sent', async () => {
  const t = fresh();
  const d = await start(t, 'socket:\n  max_line_bytes: 1024\n');
  const bad: [string | Buffer, string][] = [
    ['not json', 'E_INVALID_JSON'],
    ['[1,2,3]', 'E_NOT_OBJECT'],
    [Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d, 0x0a]), 'E_INVALID_UTF8'],
    [`{"big":"${'x'.repeat(5000)}"}`, 'E_LINE_TOO_LONG'],
    ['{"$sealog":{"ack":true}}', 'E_BAD_HANDSHAKE'],
  ];
  const clients = await Promise.all(Array.from({ length: 8 }, () => client(t.socket)));
  await Promise.all(
    clients.map(async (c, ci) => {
      const lines: (string | Buffer)[] = [];
      for (let i = 0; i < 50; i++) {
        lines.push(JSON.stringify({ client: ci, i }));
        if (i % 10 === 5) lines.push(bad[Math.floor(i / 10)]![0]); // each client sends each kind once
        if (i % 7 === 0) lines.push('   ');
      }
      // CRLF and a line split across writes must frame the same as anything else.
      lines.push(Buffer.from(`{"client":${ci},"i":"crlf"}\r\n`), Buffer.from('{"client":'), Buffer.from(`${ci},"i":"split"}\n`));
      await c.send(lines);
      await c.waitFor(() => c.committed === 52 && c.acks.filter((a) => a.ack === 'rejected').length === 5, `client ${ci} acks`);
      return c.end();
    }),
  );
  assert.equal(await d.stop(), 0);
  const records = readRecords(t);
  const accepted = records.filter((r) => r.stream !== 'rejected');
  const rejected = records.filter((r) => r.stream === 'rejected');
  assert.equal(accepted.length, 8 * 52);
  assert.equal(rejected.length, 8 * 5);
  for (const [input, code] of bad) {
    const found = rejected.filter((r) => r.event.code === code);
    assert.equal(found.length, 8, code);
    const r = found[0]!;
    const bytes = Buffer.isBuffer(input) ? input.subarray(0, -1) : Buffer.from(input);
    if (code === 'E_LINE_TOO_LONG') {
      assert.equal(r.event.raw_bytes, bytes.length);
      assert.equal(r.event.truncated, true);
      assert.ok(bytes.toString().startsWith(r.event.raw));
    } else {
      const kept = r.event.raw_encoding === 'base64' ? Buffer.from(r.event.raw, 'base64') : Buffer.from(r.event.raw);
      assert.deepEqual(kept, bytes, code);
    }
  }
  assert.equal(verify(t, ['--strict']).ok, true);
});

test('a client that never reads its acks slows only itself', async () => {
  const t = fresh();
  const d = await start(t, 'socket:\n  ack_buffer_bytes: 4096\nbatch:\n  max_records: 1\n  linger_ms: 0\n');
  const hog = await client(t.socket);
  hog.sock.pause(); // never reads: its acks pile up in the kernel and then in the daemon
  const flood = hog.send(Array.from({ length: 20000 }, (_, i) => JSON.stringify({ hog: i })));
  const polite = await client(t.socket);
  await polite.send(Array.from({ length: 100 }, (_, i) => JSON.stringify({ polite: i })));
  await polite.waitFor(() => polite.committed === 100, 'the other client is served');
  await polite.end();
  hog.sock.resume();
  await flood;
  await hog.waitFor(() => hog.committed === 20000, 'the hog catches up once it reads');
  await hog.end();
  assert.equal(await d.stop(), 0);
  assert.equal(verify(t).records, 20100);
});

test('a live daemon keeps its socket and data; a stale socket is replaced', async () => {
  const t = fresh();
  const d = await start(t);
  const second = await cliAsync(['start', '--data', join(t.dir, 'other-data'), '--socket', t.socket]);
  assert.equal(second.code, 1);
  assert.match(second.stderr, /another process is listening on .* \[E_SOCKET_IN_USE\]/);
  const third = await cliAsync(['start', '--data', t.data, '--socket', join(t.dir, 'other.sock')]);
  assert.equal(third.code, 1);
  assert.match(third.stderr, /another sealog \(pid \d+\) is running on this data directory/);
  await d.kill(); // leaves a stale socket file and lock behind
  assert.ok(existsSync(t.socket));
  const again = await start(t);
  assert.equal(cli(['send', '--socket', t.socket, '--ack'], '{"ok":1}\n').code, 0);
  assert.equal(await again.stop(), 0);
});

test('a path that is not a socket is never replaced', async () => {
  const t = fresh();
  writeFileSync(t.socket, 'precious');
  const r = await cliAsync(['start', '--data', t.data, '--socket', t.socket]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /exists and is not a socket/);
  // A listening socket that is not sealog's is not taken either.
  const other = join(t.dir, 'foreign.sock');
  const srv = createServer().listen(other);
  await new Promise((r) => srv.once('listening', r));
  const r2 = await cliAsync(['start', '--data', t.data, '--socket', other]);
  srv.close();
  assert.equal(r2.code, 1);
});

test('[URS-GMP-020] an invalid config is refused at start with every error listed', async () => {
  const t = fresh();
  const f = join(t.dir, 'bad.yaml');
  writeFileSync(f, 'fsync:\n  mode: maybe\nbatch:\n  linger_ms: -1\nsegmnet: {}\n');
  const r = await cliAsync(['start', '--config', f]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /invalid configuration in .* \(3 errors\)/);
  for (const s of ['fsync.mode', 'batch.linger_ms', "'segmnet'"]) assert.ok(r.stderr.includes(s), s);
});

test('[URS-ALC-080] a torn final frame is cut at restart, kept aside, recorded, and the chain continues', async () => {
  const t = fresh();
  let d = await start(t);
  assert.equal(cli(['send', '--socket', t.socket, '--ack'], '{"n":1}\n{"n":2}\n').code, 0);
  await d.kill();
  const seg = join(t.data, 'segments', '0000000001.seg.lz4');
  const goodSize = statSync(seg).size;
  // What a crash mid-write leaves: the start of an LZ4 frame and nothing more.
  appendFileSync(seg, Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7, 0x10, 0x00]));
  d = await start(t);
  assert.equal(cli(['send', '--socket', t.socket, '--ack'], '{"n":3}\n').code, 0);
  assert.equal(await d.stop(), 0);
  assert.equal(statSync(seg).size, goodSize);
  const records = readRecords(t);
  assert.deepEqual(
    records.map((r) => r.seq),
    [0, 1, 2, 3],
  );
  const cut = records[2]!;
  assert.equal(cut.type, 'sealog.recovery');
  assert.equal(cut.stream, 'audit');
  assert.deepEqual([cut.event.segment, cut.event.offset, cut.event.bytes], [1, goodSize, 9]);
  assert.ok(existsSync(join(t.data, cut.event.saved_as)));
  assert.equal(records[3]!.event.n, 3);
  const v = verify(t, ['--strict']);
  assert.equal(v.exit, 0, JSON.stringify(v.failure));
});
