import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, client, harness, readRecords, verify, waitUntil, type Tmp } from './helpers/daemon.js';

// Memory per connection (#18 item 4): the input sockets hold, daemon-wide, at most
// limits.input_buffer_bytes of input the pipeline has not taken, whatever the number
// of connections. The producer runs under a uid of its own where the test runs as root.
const h = harness();
const PRODUCER = 47001;
const CONNECTIONS = 4096;
const RSS_LIMIT = 512 * 1024 * 1024;

/** Open-file limit of this process (the daemon and the producer inherit it). */
function fdLimit(): number {
  const m = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'));
  return m && m[1] !== 'unlimited' ? Number(m[1]) : Infinity;
}

const kib = (n: number) => `${(n / 1024 ** 2).toFixed(0)} MiB`;
const vm = (pid: number, field: 'VmHWM' | 'VmRSS') => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

/**
 * The producer: `n` connections, connected a hundred at a time (a Unix socket's backlog is
 * bounded), each writing `what` once; prints "connected" when all are, then holds them open.
 */
function produce(t: Tmp, n: number, what: 'tiny-lines' | 'unterminated') {
  const script = `
    const net = require('node:net');
    const buf = ${JSON.stringify(what)} === 'tiny-lines'
      ? Buffer.from('{"a":1}\\n'.repeat(8192))                        // 64 KiB of 8-byte lines
      : Buffer.concat([Buffer.from('{"x":"'), Buffer.alloc(1000000, 0x61)]); // ~1 MB, no newline
    const socks = [];
    let next = 0;
    const one = () => new Promise((res) => {
      const s = net.connect(${JSON.stringify(t.socket)});
      s.on('error', () => {});
      s.once('connect', () => { socks.push(s); s.write(buf); res(); });
      s.once('error', () => setTimeout(() => one().then(res), 20));
    });
    (async () => {
      while (next < ${n}) await Promise.all(Array.from({ length: Math.min(100, ${n} - next) }, () => (next++, one())));
      console.log('connected ' + socks.length);
    })();
    process.stdin.on('data', () => {});
    process.stdin.on('end', () => process.exit(0));`;
  const child = spawn(process.execPath, ['-e', script], {
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(process.getuid?.() === 0 ? { uid: PRODUCER, gid: PRODUCER } : {}),
  });
  let out = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (out += b));
  return { child, out: () => out, end: () => new Promise((r) => (child.stdin.end(), child.once('close', r))) };
}

function status(t: Tmp): Record<string, any> {
  const r = cli(['status', '--json', '--config', join(t.dir, 'sealog.yaml')]);
  // 1: the daemon answered and is not healthy (here: the `input` condition while readers wait).
  assert.ok(r.code === 0 || r.code === 1, `status exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/**
 * While the attack holds: the peak RSS stays under the limit, the daemon answers status and
 * has paused readers, and SIGTERM stops it cleanly (what it had not read was never acked).
 * Draining all of it would be 33 M events or 4 GB of dead letter: not what is measured here.
 */
async function underAttack(t: Tmp, n: number, what: 'tiny-lines' | 'unterminated'): Promise<{ base: number; peak: number }> {
  const d = await h.start(t, 'socket:\n  mode: "0666"\n  max_connections: 5000\n');
  const base = vm(d.pid, 'VmRSS');
  const p = produce(t, n, what);
  try {
    await waitUntil(() => p.out().includes('connected'), `${n} connections`, 120_000);
    assert.match(p.out(), new RegExp(`connected ${n}`));
    await waitUntil(() => status(t).input_buffer.pauses > 0, 'readers to pause for the input budget', 60_000);
    // A connect returns once the kernel has queued it; the daemon may not have accepted the last few yet.
    await waitUntil(() => status(t).connections.open === n, `the daemon to accept all ${n} connections`, 60_000);
    const s = status(t);
    assert.ok(
      s.health.conditions.some((c: { component: string }) => c.component === 'input'),
      'status says reading is paused',
    );
    // Over by at most what the readers woken at once can take in a read or two.
    assert.ok(s.input_buffer.bytes <= s.input_buffer.limit + 16 * 1024 * 1024, `held ${s.input_buffer.bytes} against the budget ${s.input_buffer.limit}`);
    const peak = vm(d.pid, 'VmHWM');
    assert.ok(peak < RSS_LIMIT, `${what}: peak RSS ${kib(peak)} with ${n} connections`);
    assert.equal(await d.stop(), 0);
    return { base, peak };
  } finally {
    await p.end();
    if (d.proc.exitCode === null) await d.kill();
  }
}

test('memory per connection: 4096 connections sending 64 KiB of tiny lines, or ~1 MB unterminated lines, keep RSS under 512 MB; the daemon answers during and after', async () => {
  const t = h.fresh();
  chmodSync(t.dir, 0o755);
  const limit = fdLimit();
  const n = Math.min(CONNECTIONS, limit - 300);
  if (n < CONNECTIONS) console.log(`open-file limit ${limit}: ${n} connections instead of ${CONNECTIONS}`);
  for (const what of ['tiny-lines', 'unterminated'] as const) {
    const { base, peak } = await underAttack(t, n, what);
    console.log(`${what}: RSS ${kib(base)} at start, peak ${kib(peak)} with ${n} connections`);
  }
  // A restart serves a client as before, and the log verifies.
  const d = await h.start(t);
  const c = await client(t.socket);
  await c.send(['{"after":1}']);
  await c.waitFor(() => c.committed === 1, 'a commit after the attacks');
  await c.end();
  assert.equal(await d.stop(), 0);
  // The attacks leave up to millions of tiny records in the log: only the lines holding the one looked for are read.
  assert.equal(readRecords(t, '"after":1').filter((r) => r.event.after === 1).length, 1);
  assert.equal(verify(t, ['--strict']).exit, 0);
});
