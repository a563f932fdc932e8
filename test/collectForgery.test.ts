import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { connect, headers } from 'nats';
import { jcs } from '../src/crypto/canonical.js';
import { leafHash } from '../src/crypto/hash.js';
import { generateKeys, parseSignerKey } from '../src/crypto/keys.js';
import { signCheckpoint } from '../src/store/checkpoint.js';
import { cli, client, harness, readRecords } from './helpers/daemon.js';
import { jetstreamSink, keysFile, NATS_URL, startCollect, tempDb, tempStream } from './helpers/services.js';

// Messages published straight to the stream, past any sink: forged, altered, replayed,
// from an unknown origin, a gap. Then rows edited in PostgreSQL behind verify's back.

const h = harness();
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  const end = Date.now() + 30_000;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const recordLine = (seq: number, prev: string, n: number) => {
  const body = jcs({
    seq,
    ts: '2026-12-07T00:00:00.000001Z',
    stream: 'audit',
    level: 'info',
    type: 'Forged',
    source: { kind: 'socket' },
    event: { n },
    redactions: [],
    prev,
  });
  const hash = leafHash(body).toString('hex');
  return { line: `${body.slice(0, -1)},"hash":"${hash}"}`, hash };
};

test('forged and altered messages are quarantined, a gap is held until acknowledged, edited rows fail verify --postgres', async () => {
  const db = await tempDb();
  cleanups.push(db.drop);
  const s = tempStream();
  cleanups.push(s.drop);
  const t = h.fresh();
  const origin = 'test/forge';
  const d = await h.start(t, `origin: ${origin}\n${jetstreamSink(s)}`);
  const c = await client(t.socket);
  await c.send(Array.from({ length: 20 }, (_, i) => JSON.stringify({ event_type: 'ValidationEvent', i })));
  await c.waitFor(() => c.committed >= 20, '20 commits');
  await c.end();
  assert.equal(await d.stop(), 0);
  const local = readRecords(t);
  const n = local.length;
  const collect = await startCollect([
    '--nats',
    NATS_URL,
    '--postgres',
    db.url,
    '--keys',
    keysFile(t.dir, [t.pub]),
    '--stream',
    s.stream,
    '--subject-root',
    s.root,
  ]);
  cleanups.push(async () => collect.proc.exitCode === null && collect.kill());
  const count = (table: string) => db.pool.query(`SELECT count(*)::int AS n FROM ${table}`).then((r) => r.rows[0].n as number);
  await until(
    () => count('sealog_records'),
    (v) => v === n,
    'the real records',
  );

  const nc = await connect({ servers: NATS_URL });
  cleanups.push(() => nc.close());
  const js = nc.jetstream();
  const pub = async (subject: string, body: string, hs: Record<string, string>) => {
    const hh = headers();
    for (const [k, v] of Object.entries(hs)) hh.set(k, v);
    await js.publish(subject, Buffer.from(body), { headers: hh });
  };
  const token = 'test_forge';
  const rec = (seq: number) => ({ 'Sealog-Origin': origin, 'Sealog-Seq': String(seq) });
  const last = local[n - 1]!;
  // Bad hash: the next record, its event altered after hashing.
  const next = recordLine(n, last.hash, 1);
  await pub(`${s.root}.${token}.records.audit`, next.line.replace('"n":1', '"n":2'), rec(n));
  // Broken prev: a well-hashed next record that chains to something else.
  await pub(`${s.root}.${token}.records.audit`, recordLine(n, 'a'.repeat(64), 3).line, rec(n));
  // Unknown origin.
  await pub(`${s.root}.mallory.records.audit`, next.line, { 'Sealog-Origin': 'mallory', 'Sealog-Seq': String(n) });
  // A checkpoint signed by another key with the same name.
  const other = parseSignerKey(generateKeys(origin).signerKey);
  await pub(`${s.root}.${token}.checkpoints`, signCheckpoint(origin, n, Buffer.alloc(32, 1), other), {
    'Sealog-Origin': origin,
    'Sealog-Tree-Size': String(n),
  });
  // A replay of an old seq with other content.
  await pub(`${s.root}.${token}.records.audit`, recordLine(3, local[2]!.hash, 99).line, rec(3));
  const reasons = await until(
    () => db.pool.query('SELECT reason FROM sealog_quarantine ORDER BY received_at').then((r) => r.rows.map((x) => x.reason as string)),
    (v) => v.length >= 5,
    '5 quarantined',
  );
  assert.equal(reasons.length, 5);
  for (const re of [/hash mismatch/, /broken chain/, /unknown origin/, /signature/, /replayed seq 3/])
    assert.ok(
      reasons.some((r) => re.test(r)),
      `a quarantine reason matching ${re}: ${reasons.join(' | ')}`,
    );
  assert.equal(await count('sealog_records'), n, 'nothing forged among the records');
  assert.match(collect.stderr(), /quarantined: not stored among the records/);

  // A gap: seq n+1 arrives without seq n. It is held, not stored, until an operator says n is lost.
  const after1 = recordLine(n + 1, next.hash, 5);
  await pub(`${s.root}.${token}.records.audit`, after1.line, rec(n + 1));
  await until(
    () => count('sealog_held'),
    (v) => v === 1,
    'the record after the gap held',
  );
  assert.equal(await count('sealog_records'), n);
  const st = cli(['collect', 'status', '--postgres', db.url, '--json']);
  assert.equal(st.code, 1);
  assert.deepEqual(
    (JSON.parse(st.stdout) as { origins: { origin: string; next_seq: number; first_held: number }[] }).origins.map((o) => [o.origin, o.next_seq, o.first_held]),
    [[origin, n, n + 1]],
  );
  const ack = cli(['collect', 'ack-gap', '--postgres', db.url, '--origin', origin, '--reason', 'host disk lost seq n', '--by', 'test']);
  assert.equal(ack.code, 0, ack.stderr);
  await until(
    () => count('sealog_records'),
    (v) => v === n + 1,
    'the held record taken in after ack-gap',
  );
  const gapVerdict = cli(['verify', '--postgres', db.url, '--origin', origin, '--key', t.pub]);
  assert.equal(gapVerdict.code, 1);
  assert.match(gapVerdict.stdout, new RegExp(`seq ${n} missing.*acknowledged by test`));
  await db.pool.query('DELETE FROM sealog_records WHERE origin = $1 AND seq = $2', [origin, n + 1]);
  assert.equal(await collect.stop(), 0);

  // Rows edited behind verify's back.
  const ok = cli(['verify', '--postgres', db.url, '--origin', origin, '--key', t.pub]);
  assert.equal(ok.code, 0, ok.stdout);
  await db.pool.query(`UPDATE sealog_records SET event = jsonb_set(event, '{i}', '7') WHERE origin = $1 AND seq = 5`, [origin]);
  const edited = cli(['verify', '--postgres', db.url, '--origin', origin, '--key', t.pub]);
  assert.equal(edited.code, 1);
  assert.match(edited.stdout, /origin test\/forge, seq 5/);
  assert.match(edited.stdout, /event/);
  await db.pool.query(`UPDATE sealog_records SET event = (line::jsonb)->'event' WHERE origin = $1 AND seq = 5`, [origin]);
  await db.pool.query(`UPDATE sealog_records SET line = replace(line, '"i":8', '"i":80') WHERE origin = $1 AND seq = 8`, [origin]);
  const line = cli(['verify', '--postgres', db.url, '--origin', origin, '--key', t.pub, '--json']);
  assert.equal(line.code, 1);
  assert.equal((JSON.parse(line.stdout) as { failure: { seq: number } }).failure.seq, 8);
  await db.pool.query(`DELETE FROM sealog_records WHERE origin = $1 AND seq = 8`, [origin]);
  const deleted = cli(['verify', '--postgres', db.url, '--origin', origin, '--key', t.pub]);
  assert.equal(deleted.code, 1);
  assert.match(deleted.stdout, /seq 8 missing/);
  assert.ok(readFileSync(t.pub, 'utf8').startsWith(origin));
});
