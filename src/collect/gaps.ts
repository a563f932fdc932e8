import type { Pool } from 'pg';
import { ErrorCode, SealogError } from '../errors.js';

export interface AckedGap {
  origin: string;
  from_seq: number;
  to_seq: number;
}

/**
 * An operator's word that the records of an origin from its next seq up to the first held
 * one are lost for good (DESIGN §11: a gap is never papered over silently). The chain
 * resumes at that held record, its prev taken as given; the gap is kept in sealog_gaps
 * with who said so and why, and `verify --postgres` still reports it. A running collector
 * sees the state move and takes the held records in.
 */
export async function acknowledgeGap(pool: Pool, origin: string, by: string, reason: string): Promise<AckedGap> {
  const db = await pool.connect();
  try {
    await db.query('BEGIN');
    const st = await db.query<{ next_seq: string }>('SELECT next_seq FROM sealog_origins WHERE origin = $1 FOR UPDATE', [origin]);
    if (!st.rows.length) throw new SealogError(ErrorCode.USAGE, `no origin ${JSON.stringify(origin)} in this database`);
    const next = Number(st.rows[0]!.next_seq);
    const held = await db.query<{ n: string; body: string }>(
      `SELECT n, body FROM sealog_held WHERE origin = $1 AND kind = 'record' AND n = (SELECT min(n) FROM sealog_held WHERE origin = $1 AND kind = 'record' AND n > $2)`,
      [origin, next],
    );
    if (!held.rows.length)
      throw new SealogError(ErrorCode.USAGE, `origin ${origin} holds no records behind a gap (it waits for seq ${next} with nothing after it)`);
    if (held.rows.length > 1)
      throw new SealogError(
        ErrorCode.USAGE,
        `origin ${origin} holds ${held.rows.length} different messages for seq ${held.rows[0]!.n}: inspect sealog_held before acknowledging`,
      );
    const first = Number(held.rows[0]!.n);
    let prev: unknown;
    try {
      prev = (JSON.parse(held.rows[0]!.body) as { prev?: unknown }).prev;
    } catch {
      // not a record: refused below
    }
    if (typeof prev !== 'string' || !/^[0-9a-f]{64}$/.test(prev))
      throw new SealogError(ErrorCode.USAGE, `the held message for seq ${first} is not a record with a prev hash`);
    await db.query('UPDATE sealog_origins SET next_seq = $2, last_hash = $3, updated_at = now() WHERE origin = $1', [origin, first, prev]);
    await db.query('INSERT INTO sealog_gaps (origin, from_seq, to_seq, acknowledged_by, reason) VALUES ($1, $2, $3, $4, $5)', [
      origin,
      next,
      first - 1,
      by,
      reason,
    ]);
    await db.query('COMMIT');
    return { origin, from_seq: next, to_seq: first - 1 };
  } catch (err) {
    await db.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    db.release();
  }
}

export interface OriginReport {
  origin: string;
  next_seq: number;
  held: number;
  first_held: number | null;
  acknowledged_gaps: number;
  checkpoints: number;
  newest_checkpoint: number | null;
  updated_at: string;
}

/** What the database holds per origin, and the quarantine count: `sealog collect status`. */
export async function collectStatus(pool: Pool): Promise<{ origins: OriginReport[]; quarantined: number; quarantined_last_hour: number }> {
  const { rows } = await pool.query(`
    SELECT o.origin, o.next_seq::float8 AS next_seq, o.updated_at,
      (SELECT count(*) FROM sealog_held h WHERE h.origin = o.origin)::int AS held,
      (SELECT min(n) FROM sealog_held h WHERE h.origin = o.origin AND h.kind = 'record')::float8 AS first_held,
      (SELECT count(*) FROM sealog_gaps g WHERE g.origin = o.origin)::int AS acknowledged_gaps,
      (SELECT count(*) FROM sealog_checkpoints c WHERE c.origin = o.origin)::int AS checkpoints,
      (SELECT max(tree_size) FROM sealog_checkpoints c WHERE c.origin = o.origin)::float8 AS newest_checkpoint
    FROM sealog_origins o ORDER BY o.origin`);
  const q = await pool.query(
    `SELECT count(*)::float8 AS n, count(*) FILTER (WHERE received_at > now() - interval '1 hour')::float8 AS recent FROM sealog_quarantine`,
  );
  return {
    origins: rows.map((r) => ({ ...r, updated_at: new Date(r.updated_at).toISOString() })),
    quarantined: q.rows[0].n,
    quarantined_last_hour: q.rows[0].recent,
  };
}
