import type { Pool } from 'pg';

/**
 * The tables of DESIGN §11, and the collector's own: per-origin verification state
 * (so a restart resumes the chain and the Merkle tree without re-reading every row),
 * records held behind a gap, and gaps an operator acknowledged. Indexes serve
 * `query --postgres` (ts ranges, stream/type/level, the JSONB filters).
 */
const DDL = `
CREATE TABLE IF NOT EXISTS sealog_records (
  origin text NOT NULL, seq bigint NOT NULL, ts timestamptz NOT NULL, stream text NOT NULL,
  level text NOT NULL, type text NOT NULL, hash text NOT NULL, prev text NOT NULL,
  line text NOT NULL, event jsonb, PRIMARY KEY (origin, seq));
CREATE TABLE IF NOT EXISTS sealog_checkpoints (
  origin text NOT NULL, tree_size bigint NOT NULL, root text NOT NULL, note text NOT NULL,
  PRIMARY KEY (origin, tree_size));
CREATE TABLE IF NOT EXISTS sealog_quarantine (
  received_at timestamptz NOT NULL DEFAULT now(), subject text, headers jsonb, body text, reason text NOT NULL);
CREATE TABLE IF NOT EXISTS sealog_origins (
  origin text PRIMARY KEY, next_seq bigint NOT NULL, last_hash text NOT NULL, tree_size bigint NOT NULL,
  peaks text[] NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS sealog_held (
  origin text NOT NULL, kind text NOT NULL, n bigint NOT NULL, body_sha text NOT NULL, subject text, body text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (origin, kind, n, body_sha));
CREATE TABLE IF NOT EXISTS sealog_gaps (
  origin text NOT NULL, from_seq bigint NOT NULL, to_seq bigint NOT NULL, acknowledged_at timestamptz NOT NULL DEFAULT now(),
  acknowledged_by text NOT NULL, reason text NOT NULL, PRIMARY KEY (origin, from_seq));
CREATE INDEX IF NOT EXISTS sealog_records_ts ON sealog_records (ts);
CREATE INDEX IF NOT EXISTS sealog_records_stream_type ON sealog_records (stream, type);
CREATE INDEX IF NOT EXISTS sealog_records_event ON sealog_records USING gin (event jsonb_path_ops);
CREATE INDEX IF NOT EXISTS sealog_quarantine_at ON sealog_quarantine (received_at);
`;

/** Creates what is missing; safe to run at every start and from several processes (one at a time, by an advisory lock). */
export async function ensureSchema(pool: Pool): Promise<void> {
  const db = await pool.connect();
  try {
    await db.query('SELECT pg_advisory_lock(hashtext($1))', ['sealog:schema']);
    await db.query(DDL);
    await db.query('SELECT pg_advisory_unlock(hashtext($1))', ['sealog:schema']);
  } finally {
    db.release();
  }
}
