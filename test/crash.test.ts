import assert from 'node:assert/strict';
import { existsSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { prng } from './helpers/prng.js';
import { client, harness, readRecords, verify, waitUntil, type Client } from './helpers/daemon.js';

const { fresh, start } = harness();

const ROUNDS = 20;
const CLIENTS = 3;
const PER_ROUND = 3000; // events each client tries to send per round
const FILES_PER_ROUND = 2;
const FILE_LINES = 400;
const CONFIG = 'batch:\n  max_records: 64\n  linger_ms: 1\ncheckpoint:\n  every_records: 500\nspool:\n  stability_ms: 50\n  idle_ms: 200\n';

/** A producer that resends, after a reconnect, every event it has no ack for (each carries its event_id). */
interface Producer {
  id: number;
  /** Events 0..acked are acknowledged (committed, or a duplicate of a committed one). */
  acked: number;
}

/** Highest event index of this connection that an ack covers: a commit's through_line or a duplicate's line. */
function ackedIndex(c: Client, first: number): number {
  let line = 1; // the handshake
  for (const a of c.acks) {
    assert.notEqual(a.ack, 'rejected', JSON.stringify(a));
    const l = (a.ack === 'commit' ? a.through_line : a.line) as number;
    if (l > line) line = l;
  }
  return first + line - 2;
}

test('[URS-ALC-080] [URS-P11-050] crash battery: SIGKILL at 20 random moments under socket and spool load; nothing acked is lost or doubled', async (t) => {
  const seed = Number(process.env.SEALOG_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
  t.diagnostic(`seed ${seed} (rerun with SEALOG_CRASH_SEED=${seed})`);
  console.log(`crash battery seed: ${seed}`);
  const rand = prng(seed);
  const tmp = fresh();
  const spool = join(tmp.dir, 'spool');
  const producers: Producer[] = Array.from({ length: CLIENTS }, (_, id) => ({ id, acked: -1 }));
  const files: string[] = [];
  let duplicateAcks = 0;

  for (let round = 0; round < ROUNDS; round++) {
    const d = await start(tmp, CONFIG);
    // Files land in the spool while the clients send.
    for (let k = 0; k < FILES_PER_ROUND; k++) {
      const name = `r${round}-${k}.jsonl`;
      const body = Array.from({ length: FILE_LINES }, (_, i) => JSON.stringify({ file: name, i })).join('\n');
      writeFileSync(join(spool, `${name}.tmp`), `${body}\n`);
      renameSync(join(spool, `${name}.tmp`), join(spool, name));
      files.push(name);
    }
    const conns = await Promise.all(producers.map(async (p) => ({ p, c: await client(tmp.socket), first: p.acked + 1 })));
    const sending = conns.map(({ p, c, first }) =>
      c.send(
        Array.from({ length: PER_ROUND }, (_, j) =>
          JSON.stringify({ event_id: `c${p.id}-${first + j}`, client: p.id, i: first + j, pad: 'p'.repeat((first + j) % 97) }),
        ),
      ),
    );
    // The random moment: anywhere from at once to well after the first commits.
    await new Promise((r) => setTimeout(r, Math.floor(rand() * 700)));
    await d.kill();
    await Promise.all(sending);
    for (const { p, c, first } of conns) {
      p.acked = Math.max(p.acked, ackedIndex(c, first));
      duplicateAcks += c.acks.filter((a) => a.ack === 'duplicate').length;
      c.sock.destroy();
    }
    // Restart (recovery cuts a torn tail), stop cleanly, and check the log as it now stands.
    const again = await start(tmp, CONFIG);
    assert.equal(await again.stop(), 0, again.stderr());
    check(tmp, producers, `round ${round} (seed ${seed})`);
  }

  // A last run finishes every spool file.
  const d = await start(tmp, CONFIG);
  await waitUntil(() => files.every((f) => existsSync(join(spool, 'done', f))), 'every spool file to be ingested', 60_000);
  assert.equal(await d.stop(), 0);
  const records = check(tmp, producers, `final (seed ${seed})`);
  // On failure, the sealed records say why each file was refused (code and reason).
  const refusals = records.filter((r) => r.type === 'sealog.spool.failed' || r.type === 'sealog.spool.duplicate');
  assert.deepEqual(readdirSync(join(spool, 'rejected')), [], `no spool file was rejected: ${JSON.stringify(refusals.map((r) => r.event))}`);
  const ingested = records.filter((r) => r.type === 'sealog.spool.ingested').map((r) => r.event.file as string);
  assert.deepEqual([...ingested].sort(), [...files].sort(), 'one ingested record per file');
  const lines = new Set(records.filter((r) => r.source.kind === 'spool').map((r) => `${r.event.file}:${r.event.i}`));
  assert.equal(lines.size, files.length * FILE_LINES, 'every spool line is in the log');
  const acked = producers.reduce((s, p) => s + p.acked + 1, 0);
  assert.ok(acked > 0, 'some events were acknowledged');
  t.diagnostic(`${records.length} records, ${acked} acked events, ${duplicateAcks} duplicate acks for resends`);
});

/** Seq gap-free, every acked event present once, no event or spool line twice, verify --strict passes. */
function check(tmp: ReturnType<typeof fresh>, producers: Producer[], when: string): Record<string, any>[] {
  const records = readRecords(tmp);
  records.forEach((r, i) => assert.equal(r.seq, i, `${when}: seq has no gap`));
  const seen = new Set<string>();
  for (const r of records) {
    if (r.stream === 'rejected') assert.fail(`${when}: unexpected dead letter ${JSON.stringify(r.event)}`);
    const key = r.source.kind === 'socket' ? `e:${r.event.event_id}` : r.source.kind === 'spool' ? `f:${r.event.file}:${r.event.i}` : undefined;
    if (key === undefined) continue;
    assert.ok(!seen.has(key), `${when}: ${key} is stored once`);
    seen.add(key);
  }
  for (const p of producers) {
    for (let i = 0; i <= p.acked; i++) assert.ok(seen.has(`e:c${p.id}-${i}`), `${when}: acked event c${p.id}-${i} is present`);
  }
  // A kill before the first commit leaves no log at all, which verify refuses to vouch for (not a data directory).
  if (records.length === 0) return records;
  const v = verify(tmp, ['--strict']);
  assert.equal(v.exit, 0, `${when}: ${JSON.stringify(v.failure)}`);
  return records;
}
