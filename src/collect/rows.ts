import type { ClientBase } from 'pg';
import type { CheckpointRow, RecordRow } from './chain.js';

// Multi-row inserts: one statement per table per batch, each column passed as one array
// parameter and expanded by unnest (no statement-size or parameter-count limit to hit).

export interface QuarantineRow {
  subject: string;
  headers: Record<string, string>;
  body: string;
  reason: string;
}

export interface HeldRow {
  origin: string;
  kind: 'record' | 'checkpoint';
  n: number;
  body_sha: string;
  subject: string;
  body: string;
}

export async function insertRecords(db: ClientBase, rows: RecordRow[]): Promise<void> {
  if (!rows.length) return;
  const col = <K extends keyof RecordRow>(k: K) => rows.map((r) => r[k]);
  await db.query(
    `INSERT INTO sealog_records (origin, seq, ts, stream, level, type, hash, prev, line, event)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::jsonb[])`,
    [col('origin'), col('seq'), col('ts'), col('stream'), col('level'), col('type'), col('hash'), col('prev'), col('line'), col('event')],
  );
}

/** A checkpoint already stored (a redelivery) is left as it is. */
export async function insertCheckpoints(db: ClientBase, rows: CheckpointRow[]): Promise<void> {
  if (!rows.length) return;
  await db.query(
    `INSERT INTO sealog_checkpoints (origin, tree_size, root, note)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) ON CONFLICT (origin, tree_size) DO NOTHING`,
    [rows.map((r) => r.origin), rows.map((r) => r.tree_size), rows.map((r) => r.root), rows.map((r) => r.note)],
  );
}

export async function insertQuarantine(db: ClientBase, rows: QuarantineRow[]): Promise<void> {
  if (!rows.length) return;
  await db.query(
    'INSERT INTO sealog_quarantine (subject, headers, body, reason) SELECT * FROM unnest($1::text[], $2::jsonb[], $3::text[], $4::text[])',
    [rows.map((r) => r.subject), rows.map((r) => JSON.stringify(r.headers)), rows.map((r) => r.body), rows.map((r) => r.reason)],
  );
}

/** The same message held twice (a redelivery) is held once. */
export async function insertHeld(db: ClientBase, rows: HeldRow[]): Promise<void> {
  if (!rows.length) return;
  await db.query(
    `INSERT INTO sealog_held (origin, kind, n, body_sha, subject, body)
     SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[]) ON CONFLICT DO NOTHING`,
    [rows.map((r) => r.origin), rows.map((r) => r.kind), rows.map((r) => r.n), rows.map((r) => r.body_sha), rows.map((r) => r.subject), rows.map((r) => r.body)],
  );
}
