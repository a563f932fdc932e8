import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadNative } from '../src/native.js';
import { client, harness, readRecords, ROOT, verify } from './helpers/daemon.js';

const { fresh, start } = harness();
const NOBODY = 65534;

test('the native addon built at install loads; a missing one is reported, not thrown', () => {
  const { native, error } = loadNative();
  assert.equal(error, undefined, 'npm ci builds build/Release/sealog_native.node');
  assert.equal(typeof native!.peerCred, 'function');
  assert.throws(() => native!.peerCred(-1), /SO_PEERCRED/);
  const missing = loadNative('/nonexistent/sealog_native.node');
  assert.equal(missing.native, undefined);
  assert.match(missing.error!, /cannot load \/nonexistent/);
});

test('[URS-P11-080] each socket record carries the sender pid/uid/gid the kernel reports, whatever the client claims', {
  skip: process.getuid?.() !== 0 && 'needs root to send as another uid',
}, async () => {
  const t = fresh();
  chmodSync(t.dir, 0o755); // mkdtemp made it 0700; the other uid must reach the socket
  const d = await start(t, 'socket:\n  mode: "0666"\n');
  // The real `sealog send`, run as nobody; its own claim about who it is rides in the event.
  const input = '{"n":1,"source":{"peer":{"pid":1,"uid":0,"gid":0}}}\n{"n":2}\n';
  const child = spawn(process.execPath, [join(ROOT, 'bin/sealog.js'), 'send', '--socket', t.socket, '--ack'], {
    uid: NOBODY,
    gid: NOBODY,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (b) => (err += b));
  child.stdin.end(input);
  const code = await new Promise((r) => child.once('close', r));
  assert.equal(code, 0, err);
  // And one from this (root) process on a second connection.
  const c = await client(t.socket);
  await c.send(['{"n":3}']);
  await c.waitFor(() => c.committed === 1, 'root client commit');
  await c.end();
  assert.equal(await d.stop(), 0);

  const recs = readRecords(t);
  assert.deepEqual(
    recs.map((r) => r.event.n),
    [1, 2, 3],
  );
  for (const r of recs.slice(0, 2)) assert.deepEqual(r.source.peer, { pid: child.pid, uid: NOBODY, gid: NOBODY });
  assert.deepEqual(recs[2]!.source.peer, { pid: process.pid, uid: 0, gid: 0 });
  assert.deepEqual(recs[0]!.event.source, { peer: { pid: 1, uid: 0, gid: 0 } }, 'the claim stays in the event, apart from the kernel facts');
  assert.equal(verify(t, ['--strict']).exit, 0);
});

test('without the addon the daemon warns once, runs, and records no peer', async () => {
  const t = fresh();
  // A copy of the program with no build/ beside it: what an install whose native build failed looks like.
  const copy = join(t.dir, 'pkg');
  mkdirSync(join(copy, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'bin'), join(copy, 'bin'), { recursive: true });
  cpSync(join(ROOT, 'dist/src'), join(copy, 'dist/src'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(copy, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  const d = await start(t, '', { bin: join(copy, 'bin/sealog.js') });
  const c = await client(t.socket);
  await c.send(['{"n":1}']);
  await c.waitFor(() => c.committed === 1, 'commit');
  await c.end();
  assert.equal(await d.stop(), 0);
  assert.equal(d.stderr().match(/native addon unavailable/g)?.length, 1, d.stderr());
  assert.deepEqual(readRecords(t)[0]!.source, { kind: 'socket', conn: 1, line: 2 });
});
