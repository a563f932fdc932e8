import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { client, harness, readRecords, verify, waitUntil } from './helpers/daemon.js';

// Misuse of the socket and the data directory (the live-daemon socket, the second
// daemon on one data directory and the client that never reads its acks are in daemon.test.ts).

const { fresh, start } = harness();

/** A raw connection that sends nothing and does not hang up when the daemon does. */
function idle(path: string): Promise<Socket> {
  return new Promise((res, rej) => {
    const s = connect({ path, allowHalfOpen: true }, () => res(s));
    s.once('error', rej);
  });
}

async function closeAll(socks: Socket[]): Promise<void> {
  await Promise.all(socks.map((s) => new Promise((r) => (s.closed ? r(null) : (s.once('close', r), s.destroy())))));
}

test('a client that connects and sends nothing: others are served, and a stop does not wait for it', { timeout: 60_000 }, async () => {
  const t = fresh();
  const d = await start(t);
  const quiet = await idle(t.socket);
  const c = await client(t.socket);
  await c.send(['{"n":1}', '{"n":2}']);
  await c.waitFor(() => c.committed === 2, 'the other client is served');
  await c.end();
  // The quiet client never hangs up; SIGTERM still drains, ends it and exits.
  assert.equal(await d.stop(), 0, d.stderr());
  await waitUntil(() => quiet.readableEnded, 'the daemon to end the quiet connection');
  await closeAll([quiet]);
  assert.equal(verify(t, ['--strict']).records, 2);
});

test('half a line and a disconnect: the cut line goes to the dead letter as E_TRUNCATED_LINE; a whole last line without newline is accepted', async () => {
  const t = fresh();
  const d = await start(t);
  const c = await client(t.socket);
  await c.send(['{"n":1}', Buffer.from('{"half":"cut her')]);
  await c.end(); // the daemon acks what it has, then closes
  assert.deepEqual(
    c.acks.find((a) => a.ack === 'rejected'),
    {
      ack: 'rejected',
      line: 3,
      seq: 1,
      code: 'E_TRUNCATED_LINE',
      reason: 'the connection ended in the middle of this line (no newline) and what came is not a whole JSON value',
    },
  );
  assert.equal(c.throughLine, 2);
  const raw = connect(t.socket);
  raw.end('{"whole":1}'); // no newline, no acks: a writer that left it out
  await new Promise((r) => raw.once('close', r));
  assert.equal(await d.stop(), 0);
  const records = readRecords(t);
  const cut = records.find((r) => r.stream === 'rejected')!;
  assert.equal(cut.event.code, 'E_TRUNCATED_LINE');
  // The partial last token is dropped (it may be the start of a secret cut mid-value): issue #18 item 5.
  assert.equal(cut.event.raw, '{"half":"cut ');
  assert.ok(cut.redactions.some((r: { kind: string }) => r.kind === 'cut_token'));
  assert.deepEqual(cut.source.line, 3);
  assert.deepEqual(
    records.filter((r) => r.stream !== 'rejected').map((r) => r.event),
    [{ n: 1 }, { whole: 1 }],
  );
  assert.equal(verify(t, ['--strict']).ok, true);
});

test('half a line from a client killed with its acks unread: the cut line still reaches the dead letter', async () => {
  const t = fresh();
  const d = await start(t, 'batch:\n  max_records: 1\nfsync:\n  mode: never\nsocket:\n  ack_buffer_bytes: 4096\n');
  // Reads stopped at the descriptor (onread + pause): the acks fill the kernel and then the daemon's
  // buffer, so the daemon stops reading from it, after it has read every line and the cut one.
  const s = connect({ path: t.socket, onread: { buffer: Buffer.alloc(4096), callback: () => true } });
  await new Promise((r) => s.once('connect', r));
  s.pause();
  s.on('error', () => {});
  const lines = Array.from({ length: 1000 }, (_, i) => `{"n":${i}}\n`).join('');
  await new Promise((r) => s.write(`{"$sealog":{"ack":true}}\n${lines}{"cut":"he`, r));
  const committed = (pred: (r: Record<string, any>[]) => boolean) => () => {
    try {
      return pred(readRecords(t));
    } catch {
      return false; // a frame being written right now
    }
  };
  await waitUntil(
    committed((r) => r.length === 1000),
    'every whole line to be committed',
  );
  // The client dies: the daemon's next ack write fails (EPIPE) before it reads the end of input.
  s.destroy();
  await waitUntil(
    committed((r) => r.some((x) => x.stream === 'rejected')),
    'the cut line to be committed',
  );
  assert.equal(await d.stop(), 0);
  const cut = readRecords(t).filter((r) => r.stream === 'rejected');
  assert.deepEqual(
    cut.map((r) => [r.event.code, r.event.raw, r.source.line]),
    [['E_TRUNCATED_LINE', '{"cut":"', 1002]],
  );
});

test('a thousand idle connections: a working client is still served, descriptors stay bounded, stop is clean', { timeout: 120_000 }, async () => {
  const t = fresh();
  const d = await start(t);
  const socks: Socket[] = [];
  for (let i = 0; i < 1000; i++) socks.push(await idle(t.socket));
  // A client's connect completes in the kernel's backlog, before the daemon accepts it.
  const fdCount = () => readdirSync(`/proc/${d.pid}/fd`).length;
  await waitUntil(() => fdCount() >= 1000, 'the daemon to accept all 1000 connections');
  const fds = fdCount();
  assert.ok(fds < 1000 + 100, `daemon descriptors: ${fds}`);
  const c = await client(t.socket);
  await c.send(Array.from({ length: 100 }, (_, i) => JSON.stringify({ i })));
  await c.waitFor(() => c.committed === 100, 'the working client is served');
  await c.end();
  assert.equal(await d.stop(), 0, d.stderr());
  await waitUntil(() => socks.every((s) => s.closed || s.readableEnded), 'every idle connection to be ended');
  await closeAll(socks);
  assert.equal(verify(t, ['--strict']).records, 100);
});

test('connections beyond socket.max_connections get a clear error line and are closed; a freed slot serves again', { timeout: 60_000 }, async () => {
  const t = fresh();
  const d = await start(t, 'socket:\n  max_connections: 20\n');
  const held: Socket[] = [];
  for (let i = 0; i < 20; i++) held.push(await idle(t.socket));
  const excess = await Promise.all(
    Array.from({ length: 5 }, async () => {
      const s = await idle(t.socket);
      let text = '';
      s.on('data', (b: Buffer) => (text += b));
      await new Promise((r) => s.once('end', r));
      s.destroy();
      return text;
    }),
  );
  for (const text of excess) {
    const line = JSON.parse(text) as { error: string; reason: string };
    assert.equal(line.error, 'E_TOO_MANY_CONNECTIONS');
    assert.match(line.reason, /at most 20 connections/);
  }
  const fds = () => readdirSync(`/proc/${d.pid}/fd`).length;
  const full = fds();
  await closeAll(held.splice(0, 1));
  await waitUntil(() => fds() === full - 1, 'the daemon to see the freed slot');
  const c = await client(t.socket);
  await c.send(['{"after":1}']);
  await c.waitFor(() => c.committed === 1, 'a client in the freed slot is served');
  await c.end();
  await closeAll(held);
  assert.equal(await d.stop(), 0);
  assert.match(d.stderr(), /socket.max_connections reached/);
});

const asRoot = process.getuid?.() === 0;
const nobody = { uid: 65534, gid: 65534 };

test("a data directory sealog may not write (another owner, read-only, another user's log): a clear error and exit 1, no stack trace", {
  skip: !asRoot && 'needs root to run the daemon as another uid',
}, async () => {
  const t = fresh();
  chmodSync(t.dir, 0o777); // the socket, the config and the spool are this uid's to use
  mkdirSync(t.data, { mode: 0o755 }); // root's
  const refused = async (what: RegExp) => {
    const err = await start(t, '', nobody).then(
      () => assert.fail('the daemon started'),
      (e: Error) => e.message,
    );
    assert.match(err, /sealog start exited \(1\) before ready/);
    assert.match(err, /E_DATA_ACCESS/);
    assert.match(err, /sealog runs as uid 65534/);
    assert.match(err, what);
    assert.doesNotMatch(err, /\n\s+at /, 'no stack trace');
  };
  await refused(/cannot mkdir \S+\/data\/segments \(\S+\/data is owned by uid 0 gid 0, mode 0755\)/);
  chownSync(t.data, nobody.uid, nobody.gid);
  chmodSync(t.data, 0o555); // its own, but read-only
  await refused(/mode 0555/);
  // A log another user's daemon wrote: its keys are that user's (0600).
  chownSync(t.data, 0, 0);
  chmodSync(t.data, 0o755);
  const d = await start(t);
  assert.equal(await d.stop(), 0);
  chmodSync(t.data, 0o777);
  await refused(/cannot open \S+\/keys\/signing.key \(\S+\/keys is owned by uid 0 gid 0, mode 0700\)/);
});

test('a socket directory sealog may not write: a clear error and exit 1', { skip: !asRoot && 'needs root to run the daemon as another uid' }, async () => {
  const t = fresh();
  chmodSync(t.dir, 0o777);
  const rootOnly = `${t.dir}/run`;
  mkdirSync(rootOnly, { mode: 0o755 });
  const err = await start(t, `socket:\n  path: ${rootOnly}/s.sock\n`, nobody).then(
    () => assert.fail('the daemon started'),
    (e: Error) => e.message,
  );
  assert.match(err, /sealog start exited \(1\) before ready/);
  assert.match(
    err,
    /permission denied: cannot listen \S+\/run\/s.sock \(\S+\/run is owned by uid 0 gid 0, mode 0755\); sealog runs as uid 65534 .*\[E_DATA_ACCESS\]/,
  );
});
