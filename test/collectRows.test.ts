import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { acceptRecord, initialState, type RecordRow } from '../src/collect/chain.js';
import { insertRecords, pgMicros } from '../src/collect/rows.js';
import { ensureSchema } from '../src/collect/schema.js';
import { jcs } from '../src/crypto/canonical.js';
import { leafHash } from '../src/crypto/hash.js';
import { tempDb, type TempDb } from './helpers/services.js';

// Records go into PostgreSQL by COPY in its binary format (collect/rows.ts): every column
// must be what PostgreSQL's own text input makes of the same values.

let db: TempDb | undefined;
after(async () => {
  await db?.drop();
});

const TIMES = [
  '2026-12-07T00:00:00Z',
  '2026-12-07T13:14:15.123456Z',
  '2000-01-01T00:00:00.000001Z',
  '1999-12-31T23:59:59.999999Z',
  '1969-07-20T20:17:40.5Z',
  '0001-01-01T00:00:00Z',
  '9999-12-31T23:59:59.9999994Z',
  '2026-12-07T00:00:00.0000005Z',
  '2026-12-07T00:00:00.0000015Z',
  '2026-12-07T00:00:00.0000025Z',
  '2026-12-07T00:00:00.123456789Z',
  '2026-12-07T00:00:00.9999995Z',
];

test('binary COPY stores ts, text columns, line and event as PostgreSQL reads them from text', async () => {
  db = await tempDb();
  await ensureSchema(db.pool);
  const s = initialState();
  const rows: RecordRow[] = [];
  let prev = '0'.repeat(64);
  for (const [seq, ts] of TIMES.entries()) {
    const body = jcs({
      seq,
      ts,
      stream: `audit ${seq}\t\\`,
      level: 'info',
      type: 'Täst😀',
      event: { note: 'tab\there back\\slash\nnew line é 😀 "q" \u0000', n: [seq, { x: null }] },
      prev,
    });
    prev = leafHash(body).toString('hex');
    const r = acceptRecord('test/origin é', seq, Buffer.from(`${body.slice(0, -1)},"hash":"${prev}"}`), undefined, s);
    assert.ok(r.ok, r.ok ? '' : r.reason);
    rows.push(r.row);
  }
  const c = await db.pool.connect();
  try {
    await c.query('BEGIN');
    await insertRecords(c, rows);
    await c.query('COMMIT');
  } finally {
    c.release();
  }
  const { rows: got } = await db.pool.query<{ seq: string; same_ts: boolean; us: string; stream: string; type: string; line: string; same_event: boolean }>(
    `SELECT r.seq, r.ts = x.ts::timestamptz AS same_ts, ((extract(epoch from r.ts) - 946684800) * 1000000)::bigint AS us,
            r.stream, r.type, r.line, r.event = x.event::jsonb AS same_event
       FROM sealog_records r JOIN unnest($1::text[], $2::text[], $3::bigint[]) AS x(ts, event, seq) ON r.seq = x.seq ORDER BY r.seq`,
    [rows.map((r) => r.ts), rows.map((r) => r.event.toString('utf8')), rows.map((r) => r.seq)],
  );
  assert.equal(got.length, TIMES.length);
  for (const [i, g] of got.entries()) {
    const r = rows[i]!;
    assert.ok(g.same_ts, `ts ${r.ts}: stored ${g.us} µs, PostgreSQL reads the text otherwise`);
    assert.equal(BigInt(g.us), pgMicros(r.ts), `pgMicros(${r.ts})`);
    assert.equal(g.stream, r.stream);
    assert.equal(g.type, r.type);
    assert.ok(Buffer.from(g.line, 'utf8').equals(r.line), `line of seq ${r.seq} byte for byte`);
    assert.ok(g.same_event, `event of seq ${r.seq}`);
  }
  const origins = await db.pool.query('SELECT DISTINCT origin FROM sealog_records');
  assert.deepEqual(
    origins.rows.map((o) => o.origin),
    ['test/origin é'],
  );
});
