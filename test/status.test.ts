import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, cliAsync, client, harness, readRecords, verify, type Tmp } from './helpers/daemon.js';

const { fresh, start } = harness();
const controlOf = (t: Tmp) => t.socket.replace(/\.sock$/, '.ctl');

async function status(t: Tmp): Promise<{ code: number | null; report: Record<string, any> }> {
  const r = await cliAsync(['status', '--control', controlOf(t), '--json']);
  assert.notEqual(r.code, 2, r.stderr);
  return { code: r.code, report: JSON.parse(r.stdout) as Record<string, any> };
}

/** Asks the daemon until its report satisfies `pred`. */
async function statusUntil(t: Tmp, pred: (r: Record<string, any>) => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred((await status(t)).report)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('sealog status answers over the control socket: health, counts per source, log position, queues', async () => {
  const t = fresh();
  const d = await start(t);
  assert.equal(statSync(controlOf(t)).mode & 0o777, 0o600, 'the control socket is owner-only');
  const sent = cli(['send', '--socket', t.socket, '--ack'], '{"n":1}\n{"n":2}\nnot json\n{"n":3}\n');
  assert.equal(sent.code, 1, 'one line was rejected');

  const { code, report } = await status(t);
  assert.equal(code, 0);
  assert.equal(report.health.level, 'ok');
  assert.deepEqual(report.events.socket, { in: 4, committed: 3, rejected: 1, duplicates: 0, pending: 0 });
  assert.equal(report.log.tree_size, 4);
  assert.equal(report.daemon.pid, d.pid);
  assert.ok(Date.parse(report.log.last_commit) > 0);
  assert.deepEqual(
    report.queues.map((q: { stage: string }) => q.stage),
    ['front (worker)', 'dedupe→seal', 'batch', 'compress', 'rotate'],
  );
  assert.equal(report.connections.total, 1);

  const table = cli(['status', '--control', controlOf(t)]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^health {6}OK$/m);
  assert.match(table.stdout, /socket +4 +3 +1 +0 +0/);

  // A request that is not a command gets an error answer, not a hang or a crash.
  const answer = await new Promise<string>((res) => {
    let buf = '';
    const s = connect(controlOf(t), () => s.write('{"cmd":"reboot"}\n'));
    s.on('data', (b) => (buf += b)).on('end', () => res(buf));
  });
  assert.match(JSON.parse(answer).error, /unknown command "reboot"/);

  assert.equal(await d.stop(), 0);
  const gone = cli(['status', '--control', controlOf(t)]);
  assert.equal(gone.code, 2);
  assert.match(gone.stderr, /no daemon answers on .*s\.ctl/);
});

/**
 * A real ENOSPC: the data directory is on a tmpfs of its own, filled with a
 * ballast file while 16 clients send flat out with acks. The stalled disk is
 * also the slowest possible writer, so this is where the buffers must hold
 * their marks.
 */
test('disk full: input pauses within its marks, status says unhealthy, nothing torn; resumes by itself when space returns', async (ctx) => {
  if (process.getuid?.() !== 0) return ctx.skip('mounting a tmpfs needs root');
  const t = fresh();
  mkdirSync(t.data, { recursive: true });
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16m,mode=0750', 'tmpfs', t.data], { encoding: 'utf8' });
  if (mount.status !== 0) return ctx.skip(`cannot mount a tmpfs here: ${mount.stderr.trim()}`);
  ctx.after(() => spawnSync('umount', ['-l', t.data]));

  const d = await start(t, 'checkpoint:\n  every_seconds: 1\n');
  const ballast = join(t.data, 'ballast');
  const fs = statfsSync(t.data);
  writeFileSync(ballast, Buffer.alloc(fs.bavail * fs.bsize - 256 * 1024)); // leaves 256 KiB

  const N = 2000;
  const clients = await Promise.all(Array.from({ length: 16 }, () => client(t.socket)));
  const sending = clients.map(async (c, ci) => {
    await c.send(Array.from({ length: N }, (_, i) => JSON.stringify({ id: `${ci}-${i}`, note: 'x'.repeat(200 + ((i * 7919) % 300)) })));
    // Half the clients close their side as soon as they have written: their acks must still all come.
    if (ci % 2) c.sock.end();
  });

  await statusUntil(t, (r) => r.health.level === 'unhealthy', 'status to report the full disk');
  const full = await status(t);
  assert.equal(full.code, 1, 'status exits 1 when unhealthy');
  assert.equal(full.report.health.conditions[0].component, 'disk');
  assert.match(full.report.health.conditions[0].reason, /ENOSPC/);

  // While stalled: commits stop, every stage holds no more than its mark, memory stays small.
  const committedAtStall = clients.reduce((n, c) => n + c.committed, 0);
  for (let i = 0; i < 5; i++) {
    const { report: r } = await status(t);
    for (const q of r.queues as { stage: string; items: number; mark: number }[]) assert.ok(q.items <= q.mark, `${q.stage} holds ${q.items} > mark ${q.mark}`);
    assert.ok(r.daemon.rss_bytes < 256 * 1024 * 1024, `rss ${r.daemon.rss_bytes}`);
    await new Promise((res) => setTimeout(res, 200));
  }
  assert.equal(
    clients.reduce((n, c) => n + c.committed, 0),
    committedAtStall,
    'nothing is acknowledged while nothing can be written',
  );
  // Nothing torn: what is on disk decodes and chains (an unsealed tail at most). The disk may
  // have filled before the first checkpoint: then verify fails only for that (V_NO_CHECKPOINT).
  const mid = verify(t);
  assert.ok(mid.ok || mid.failure?.code === 'V_NO_CHECKPOINT', JSON.stringify(mid.failure));

  rmSync(ballast);
  await Promise.all(sending);
  await Promise.all(clients.map((c, ci) => c.waitFor(() => c.committed === N, `client ${ci}: all ${N} acked after space returned`, 120_000)));
  await Promise.all(clients.map((c) => c.end()));
  const after = await status(t);
  assert.equal(after.report.health.level, 'ok');
  assert.match(d.stderr(), /disk space returned: writing resumed/);
  assert.equal(await d.stop(), 0);

  assert.equal(verify(t, ['--strict']).exit, 0);
  const ids = readRecords(t)
    .filter((r) => r.stream !== 'rejected' && r.event.id !== undefined)
    .map((r) => r.event.id as string);
  assert.equal(ids.length, 16 * N);
  assert.equal(new Set(ids).size, 16 * N, 'every event exactly once');
});
