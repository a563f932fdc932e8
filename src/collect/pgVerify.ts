import type { Pool } from 'pg';
import { jcs } from '../crypto/canonical.js';
import { ZERO_HASH_HEX } from '../crypto/hash.js';
import type { Verifier } from '../crypto/keys.js';
import { CompactTree } from '../crypto/merkle.js';
import { VerifyCode } from '../errors.js';
import { openCheckpoint } from '../store/checkpoint.js';
import { openLine } from '../store/recordLine.js';

export interface PgFinding {
  code: string;
  message: string;
  origin: string;
  seq?: number;
  tree_size?: number;
}

export interface PgVerdict {
  ok: boolean;
  origin: string;
  records: number;
  checkpoints: number;
  sealedThrough: number;
  root: string;
  failure?: PgFinding;
  warnings: PgFinding[];
}

const PAGE = 5000;

class Failed extends Error {
  constructor(readonly finding: PgFinding) {
    super(finding.message);
  }
}

/**
 * `verify --postgres`: the chain and checkpoints of one origin as stored in PostgreSQL,
 * re-derived from the stored lines alone (DESIGN §11). Every row's line must recompute to
 * its hash and chain to the row before; every column must say what its line says (an
 * edited event, ts or type fails); seqs must run 0.. without a gap; every checkpoint
 * must carry a valid signature by a pinned key and the root of the rows before it; and
 * the rows must reach the newest checkpoint (rows deleted from the end fail).
 * Reads in pages, so memory stays bounded whatever the table holds.
 */
export async function verifyPostgres(pool: Pool, origin: string, keys: readonly Verifier[], strict: boolean): Promise<PgVerdict> {
  const v: PgVerdict = { ok: false, origin, records: 0, checkpoints: 0, sealedThrough: 0, root: '', warnings: [] };
  const fail = (f: Omit<PgFinding, 'origin'>): never => {
    throw new Failed({ ...f, origin });
  };
  try {
    const cps = await checkpoints(pool, origin, keys, fail);
    v.checkpoints = cps.size;
    const gaps = new Map(
      (
        await pool.query<{ from_seq: string; to_seq: string; acknowledged_by: string; reason: string }>(
          'SELECT from_seq, to_seq, acknowledged_by, reason FROM sealog_gaps WHERE origin = $1',
          [origin],
        )
      ).rows.map((g) => [Number(g.from_seq), g]),
    );
    const tree = new CompactTree();
    let lastHash = ZERO_HASH_HEX;
    for (let after = -1; ; ) {
      const { rows } = await pool.query<{
        seq: string;
        ts: Date;
        stream: string;
        level: string;
        type: string;
        hash: string;
        prev: string;
        line: string;
        event: string | null;
      }>(
        'SELECT seq, ts, stream, level, type, hash, prev, line, event::text AS event FROM sealog_records WHERE origin = $1 AND seq > $2 ORDER BY seq LIMIT $3',
        [origin, after, PAGE],
      );
      for (const r of rows) {
        const seq = Number(r.seq);
        if (seq !== tree.size) {
          const g = gaps.get(tree.size);
          fail({
            code: VerifyCode.SEQ_MISMATCH,
            seq: tree.size,
            message: `seq ${tree.size}${seq - 1 > tree.size ? `..${seq - 1}` : ''} missing from PostgreSQL (next row is seq ${seq})${g ? `; the gap was acknowledged by ${g.acknowledged_by}: ${g.reason}` : ': a row was deleted, or never arrived'}`,
          });
        }
        checkRow(r, seq, lastHash, fail);
        tree.append(Buffer.from(r.hash, 'hex'));
        lastHash = r.hash;
        v.records++;
        const cp = cps.get(tree.size);
        if (cp && cp !== tree.root().toString('base64'))
          fail({
            code: VerifyCode.ROOT_MISMATCH,
            seq,
            tree_size: tree.size,
            message: `the rows through seq ${seq} do not hash to the root of the signed checkpoint of tree size ${tree.size}`,
          });
      }
      if (rows.length < PAGE) break;
      after = Number(rows[rows.length - 1]!.seq);
    }
    const newest = Math.max(0, ...cps.keys());
    if (newest > tree.size)
      fail({
        code: VerifyCode.TRUNCATED,
        seq: tree.size,
        tree_size: newest,
        message: `PostgreSQL holds ${tree.size} rows but a signed checkpoint covers ${newest}: rows were deleted from the end (or have not arrived yet)`,
      });
    v.sealedThrough = newest;
    v.root = tree.root().toString('base64');
    if (tree.size > newest) {
      const tail = {
        code: newest ? VerifyCode.UNSEALED_TAIL : VerifyCode.NO_CHECKPOINT,
        origin,
        seq: newest,
        message: `${tree.size - newest} row(s) after the newest checkpoint (seq ${newest}..${tree.size - 1}) are chained but not sealed by a signature`,
      };
      if (strict) fail(tail);
      v.warnings.push(tail);
    }
    v.ok = true;
  } catch (err) {
    if (!(err instanceof Failed)) throw err;
    v.failure = err.finding;
  }
  return v;
}

type Row = { ts: Date; stream: string; level: string; type: string; hash: string; prev: string; line: string; event: string | null };

/** One row against its own line: the line is the evidence, every column must agree with it. */
function checkRow(r: Row, seq: number, lastHash: string, fail: (f: Omit<PgFinding, 'origin'>) => never): void {
  const at = { seq };
  const opened = openLine(Buffer.from(r.line, 'utf8'));
  if (typeof opened === 'string') fail({ code: VerifyCode.RECORD_MALFORMED, ...at, message: `stored line: ${opened}` });
  const o = opened as Exclude<typeof opened, string>;
  const hash = o.hash.toString('hex');
  if (hash !== o.claimed || hash !== r.hash)
    fail({
      code: VerifyCode.HASH_MISMATCH,
      ...at,
      message: `the stored line hashes to ${hash}; it claims ${o.claimed} and the hash column says ${r.hash} (line or hash edited)`,
    });
  if (!o.canonical) fail({ code: VerifyCode.NOT_CANONICAL, ...at, message: 'the stored line is not in canonical form' });
  if (o.seq !== seq) fail({ code: VerifyCode.SEQ_MISMATCH, ...at, message: `the line says seq ${o.seq}, its row seq ${seq}` });
  if (o.prev !== lastHash || r.prev !== o.prev) fail({ code: VerifyCode.CHAIN_BROKEN, ...at, message: `prev does not match the hash of seq ${seq - 1}` });
  const rec = o.record as Record<string, unknown>;
  const differs: string[] = [];
  for (const k of ['stream', 'level', 'type'] as const) if (rec[k] !== r[k]) differs.push(k);
  if (Date.parse(rec.ts as string) !== r.ts.getTime()) differs.push('ts');
  if (!sameJson(r.event, rec.event)) differs.push('event');
  if (differs.length)
    fail({ code: VerifyCode.RECORD_MALFORMED, ...at, message: `column(s) ${differs.join(', ')} differ from the stored line (edited in the database)` });
}

/** The event column against the line's event, compared canonically (jsonb reorders keys). */
function sameJson(column: string | null, fromLine: unknown): boolean {
  if (column === null) return false;
  try {
    return jcs(JSON.parse(column)) === jcs(JSON.parse(JSON.stringify(fromLine ?? null).replaceAll('\\u0000', '\\ufffd')));
  } catch {
    return false;
  }
}

/** Every stored checkpoint of the origin, signature and origin checked: tree size → base64 root. */
async function checkpoints(pool: Pool, origin: string, keys: readonly Verifier[], fail: (f: Omit<PgFinding, 'origin'>) => never): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (let after = -1; ; ) {
    const { rows } = await pool.query<{ tree_size: string; root: string; note: string }>(
      'SELECT tree_size, root, note FROM sealog_checkpoints WHERE origin = $1 AND tree_size > $2 ORDER BY tree_size LIMIT $3',
      [origin, after, PAGE],
    );
    for (const r of rows) {
      const size = Number(r.tree_size);
      const opened = openCheckpoint(Buffer.from(r.note, 'utf8'), keys);
      if ('error' in opened)
        fail({
          code: opened.signature ? VerifyCode.CHECKPOINT_SIGNATURE : VerifyCode.CHECKPOINT_INVALID,
          tree_size: size,
          message: `checkpoint of tree size ${size}: ${opened.error}`,
        });
      const cp = (opened as { checkpoint: { origin: string; size: number; root: Buffer } }).checkpoint;
      if (cp.origin !== origin)
        fail({ code: VerifyCode.CHECKPOINT_ORIGIN, tree_size: size, message: `checkpoint of tree size ${size} names origin ${JSON.stringify(cp.origin)}` });
      if (cp.size !== size || cp.root.toString('base64') !== r.root)
        fail({ code: VerifyCode.CHECKPOINT_INVALID, tree_size: size, message: `checkpoint row of tree size ${size}: its columns differ from its signed note` });
      out.set(size, r.root);
    }
    if (rows.length < PAGE) return out;
    after = Number(rows[rows.length - 1]!.tree_size);
  }
}
