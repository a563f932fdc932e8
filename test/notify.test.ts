import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { client, harness, ROOT, verify, waitUntil, type Running } from './helpers/daemon.js';

const { fresh, start } = harness();
const listeners: { kill(): void }[] = [];
after(() => listeners.forEach((l) => l.kill()));

/** A real AF_UNIX datagram socket (python3) set as NOTIFY_SOCKET; collects what the daemon sends. */
async function notifyListener(path: string): Promise<{ messages: string[] }> {
  const proc = spawn('python3', [join(ROOT, 'test/helpers/notify-listener.py'), path], { stdio: ['ignore', 'pipe', 'inherit'] });
  listeners.push({ kill: () => proc.kill('SIGKILL') });
  const messages: string[] = [];
  let listening = false;
  let buf = '';
  proc.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let nl; (nl = buf.indexOf('\n')) >= 0; buf = buf.slice(nl + 1)) {
      const m = JSON.parse(buf.slice(0, nl)) as { listening?: true; message?: string };
      if (m.listening) listening = true;
      else messages.push(m.message!);
    }
  });
  await waitUntil(() => listening, 'the notify listener');
  return { messages };
}

const has = (m: string, field: string) => m.split('\n').some((l) => l === field || l.startsWith(field));

test('Type=notify: READY=1 with STATUS once the socket accepts, WATCHDOG=1 pings, live counts, STOPPING=1 on SIGTERM', async () => {
  const t = fresh();
  const notify = join(t.dir, 'notify.sock');
  const l = await notifyListener(notify);
  const d = await start(t, '', { env: { ...process.env, NOTIFY_SOCKET: notify, WATCHDOG_USEC: '400000' } });
  await waitUntil(() => l.messages.some((m) => has(m, 'READY=1')), 'READY=1');
  const ready = l.messages.find((m) => has(m, 'READY=1'))!;
  assert.match(ready, /^STATUS=ok; accepted 0, committed 0, pending 0$/m);
  await waitUntil(() => l.messages.filter((m) => has(m, 'WATCHDOG=1')).length >= 3, 'watchdog pings');

  const c = await client(t.socket); // the socket accepts by the time READY=1 is sent
  await c.send(['{"n":1}', '{"n":2}']);
  await c.waitFor(() => c.committed === 2, 'commits');
  await waitUntil(() => l.messages.some((m) => /^STATUS=ok; accepted 2, committed 2, pending 0$/m.test(m)), 'STATUS with the live counts');
  await c.end();
  assert.equal(await d.stop(), 0);
  await waitUntil(() => l.messages.some((m) => has(m, 'STOPPING=1')), 'STOPPING=1');
  assert.ok(l.messages.findIndex((m) => has(m, 'STOPPING=1')) > l.messages.findIndex((m) => has(m, 'READY=1')));
});

test('an abstract-namespace NOTIFY_SOCKET (@name) works; no WATCHDOG_USEC, no pings', async () => {
  const t = fresh();
  const name = `@sealog-test-${randomBytes(6).toString('hex')}`;
  const l = await notifyListener(name);
  const d = await start(t, '', { env: { ...process.env, NOTIFY_SOCKET: name } });
  await waitUntil(() => l.messages.some((m) => has(m, 'READY=1')), 'READY=1');
  assert.equal(await d.stop(), 0);
  await waitUntil(() => l.messages.some((m) => has(m, 'STOPPING=1')), 'STOPPING=1');
  assert.equal(l.messages.filter((m) => has(m, 'WATCHDOG=1')).length, 0);
});

test('records accepted and not committed stop the watchdog pings; the stop still commits them all', async () => {
  const t = fresh();
  const notify = join(t.dir, 'notify.sock');
  const l = await notifyListener(notify);
  // Commits only by the fsync interval, first due a minute after start: accepted records stay pending
  // for the whole test, which is how a stuck pipeline looks from the watchdog.
  const d = await start(t, 'fsync:\n  mode: interval\n  interval_ms: 60000\n', { env: { ...process.env, NOTIFY_SOCKET: notify, WATCHDOG_USEC: '200000' } });
  await waitUntil(() => l.messages.filter((m) => has(m, 'WATCHDOG=1')).length >= 2, 'pings while idle');
  const c = await client(t.socket);
  await c.send(['{"n":1}', '{"n":2}', '{"n":3}']);
  const stuck = () => l.messages.filter((m) => /pending 3$/m.test(m));
  await waitUntil(() => stuck().length >= 5, 'five ticks with the records pending');
  // One tick of grace (the records may have arrived just before it), then no more pings.
  assert.ok(stuck().filter((m) => has(m, 'WATCHDOG=1')).length <= 1, stuck().join(' | '));
  assert.match(d.stderr(), /pipeline stuck: records pending and nothing committed/);
  assert.equal(c.committed, 0);

  assert.equal(await d.stop(), 0);
  await c.waitFor(() => c.committed === 3, 'the stop commits what was accepted');
  await c.end();
  assert.equal(verify(t, ['--strict']).exit, 0);
});

const run = (cmd: string, ...args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`);
};
const canMount = process.getuid?.() === 0 && ['mkfs.ext4', 'fsfreeze', 'mount'].every((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);

test('a real stall (the data filesystem frozen by fsfreeze) stops the watchdog pings; they resume when it thaws, nothing lost', {
  skip: !canMount && 'needs root, mkfs.ext4, mount -o loop and fsfreeze',
}, async () => {
  const t0 = fresh();
  const mnt = join(t0.dir, 'mnt');
  const img = join(t0.dir, 'fs.img');
  run('truncate', '-s', '64M', img);
  run('mkfs.ext4', '-q', '-F', img);
  mkdirSync(mnt);
  run('mount', '-o', 'loop', img, mnt);
  const t = { ...t0, data: join(mnt, 'data'), pub: join(mnt, 'data/keys/signing.pub') };
  let d: Running | undefined;
  try {
    const notify = join(t.dir, 'notify.sock');
    const l = await notifyListener(notify);
    d = await start(t, `data_dir: ${t.data}\n`, { env: { ...process.env, NOTIFY_SOCKET: notify, WATCHDOG_USEC: '400000' } });
    await waitUntil(() => l.messages.filter((m) => has(m, 'WATCHDOG=1')).length >= 2, 'pings while idle');
    const c = await client(t.socket);
    await c.send(['{"n":1}']);
    await c.waitFor(() => c.committed === 1, 'a commit before the freeze');

    run('fsfreeze', '-f', mnt); // writes and fsyncs now block in the kernel; the event loop runs on
    await c.send(['{"n":2}', '{"n":3}', '{"n":4}']);
    await waitUntil(() => d!.stderr().includes('pipeline stuck'), 'the stall to be noticed', 30000);
    const from = l.messages.length;
    await waitUntil(() => l.messages.length >= from + 5, 'five more ticks');
    assert.deepEqual(
      l.messages.slice(from).filter((m) => has(m, 'WATCHDOG=1')),
      [],
      'no ping while stuck',
    );
    assert.ok(
      l.messages.slice(from).every((m) => has(m, 'STATUS=unhealthy;')),
      'the health says so',
    );
    assert.equal(c.committed, 1);

    run('fsfreeze', '-u', mnt);
    await c.waitFor(() => c.committed === 4, 'the held records commit after the thaw');
    await waitUntil(() => d!.stderr().includes('watchdog pings resume'), 'pings to resume');
    const thawed = l.messages.length;
    await waitUntil(() => l.messages.slice(thawed).some((m) => has(m, 'WATCHDOG=1') && has(m, 'STATUS=ok;')), 'a ping and health ok after the thaw');
    await c.end();
    assert.equal(await d.stop(), 0);
    assert.equal(verify(t, ['--strict']).exit, 0);
  } finally {
    spawnSync('fsfreeze', ['-u', mnt]); // never leave it frozen, whatever failed
    if (d && d.proc.exitCode === null && d.proc.signalCode === null) await d.kill();
    spawnSync('umount', [mnt]);
  }
});
