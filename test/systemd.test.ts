import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN, client, harness, readRecords, ROOT, verify, waitUntil, writeConfig } from './helpers/daemon.js';

const { fresh } = harness();
const UNITS = ['sealog.service', 'sealog.socket', 'sealog-collect.service'].map((u) => join(ROOT, 'systemd', u));
const has = (cmd: string) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;

test('systemd-analyze verify accepts the units without a single warning', { skip: !has('systemd-analyze') && 'systemd-analyze is not installed' }, () => {
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', ...UNITS], { encoding: 'utf8' });
  // It exits 0 even for an unknown key or a bad value ("ignoring"), so any output is a failure too.
  assert.equal(r.status, 0, r.stderr);
  assert.equal(`${r.stdout}${r.stderr}`.trim(), '');
});

test('the service unit: notify with watchdog, validate before start, reload by SIGHUP, hardened without MemoryDenyWriteExecute', () => {
  const unit = readFileSync(UNITS[0]!, 'utf8');
  const set = (key: string) => unit.match(new RegExp(`^${key}=(.*)$`, 'm'))?.[1];
  assert.equal(set('Type'), 'notify');
  assert.equal(set('NotifyAccess'), 'main');
  assert.match(set('WatchdogSec') ?? '', /^\d+$/);
  assert.match(set('ExecStartPre') ?? '', / validate --config /);
  assert.equal(set('ExecReload'), '/bin/kill -HUP $MAINPID');
  assert.equal(set('User'), 'sealog');
  // The default config serves HTTP on loopback TCP: the unit must let it, and reach no other address.
  assert.equal(set('RestrictAddressFamilies'), 'AF_UNIX AF_INET AF_INET6');
  assert.match(readFileSync(join(ROOT, 'config', 'sealog.yaml'), 'utf8'), /^ {2}listen: 127\.0\.0\.1:\d+$/m);
  assert.equal(set('IPAddressDeny'), 'any');
  assert.equal(set('IPAddressAllow'), 'localhost');
  for (const k of ['ProtectSystem', 'ReadWritePaths', 'NoNewPrivileges', 'PrivateTmp', 'RuntimeDirectory', 'StateDirectory']) assert.ok(set(k), k);
  assert.doesNotMatch(unit, /^MemoryDenyWriteExecute/m, 'breaks V8');
});

test('socket activation: systemd-socket-activate binds, the daemon takes fd 3, a client queued before it started is served', {
  skip: !has('systemd-socket-activate') && 'systemd-socket-activate is not installed',
}, async () => {
  const t = fresh();
  const listen = join(t.dir, 'activated.sock'); // not the config's socket.path, which is ignored then
  const cfg = writeConfig(t);
  const proc = spawn('systemd-socket-activate', ['-l', listen, process.execPath, BIN, 'start', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => (err += d));
  const exited = new Promise((r) => proc.once('exit', r));
  try {
    await waitUntil(() => err.includes(`Listening on ${listen}`), 'the activation socket'); // said after listen(), not just bind()
    assert.doesNotMatch(err, /sealog ready/, 'sealog starts at the first connection, not before');
    const c = await client(listen); // accepted by the kernel now, by sealog once it runs
    await c.send(['{"n":1}', '{"n":2}']);
    await c.waitFor(() => c.committed === 2, 'commits');
    await c.end();
    // Input flows as soon as fd 3 is taken; the ready line comes once the rest (spool, control, jobs) is up.
    await waitUntil(() => err.includes('sealog ready'), 'the ready line');
    assert.match(err, /"socket":"fd 3 from systemd".*sealog ready/);
    assert.equal(existsSync(t.socket), false, 'socket.path was not bound');
  } finally {
    proc.kill('SIGTERM'); // exec'd in place: the same pid is the daemon
  }
  assert.equal(await exited, 0, err);
  const recs = readRecords(t);
  assert.deepEqual(
    recs.map((r) => r.event.n),
    [1, 2],
  );
  assert.equal(recs[0]!.source.peer.pid, process.pid);
  assert.equal(verify(t, ['--strict']).exit, 0);
});
