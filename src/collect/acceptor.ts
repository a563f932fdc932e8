import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { Verifier } from '../crypto/keys.js';
import { CompactTree } from '../crypto/merkle.js';
import type { Logger } from '../log.js';
import { acceptCheckpoint, acceptRecord, initialState, type CheckpointRow, type OriginState, type RecordRow } from './chain.js';
import { insertCheckpoints, insertHeld, insertQuarantine, insertRecords, type HeldRow, type QuarantineRow } from './rows.js';
import { bodyText, H_HASH, type Item } from './wire.js';

export interface Outcome {
  records: number;
  checkpoints: number;
  duplicates: number;
  held: number;
  quarantined: number;
}

interface Plan {
  records: RecordRow[];
  checkpoints: CheckpointRow[];
  quarantine: QuarantineRow[];
  held: HeldRow[];
  /** Held rows taken (verified into the log or quarantined). */
  taken: HeldRow[];
  /** Records with a seq already past: a duplicate, or a replay with other content. */
  olds: Extract<Item, { kind: 'record' }>[];
  duplicates: number;
  /** Per drained origin, the messages still held after this batch (when one query saw them all). */
  remaining: Map<string, number>;
}

/** Another writer moved an origin's state under us: reload and try again. */
class Conflict extends Error {}

const DRAIN_CHUNK = 2000;

/**
 * Verifies items per origin and writes them into PostgreSQL in one transaction: records
 * that continue their origin's chain go to sealog_records, checkpoints signed by the
 * origin's pinned key to sealog_checkpoints, anything that fails to sealog_quarantine.
 * A record ahead of its origin's chain (a gap) is held in sealog_held until the missing
 * ones arrive or an operator acknowledges the gap; holding never skips a record.
 * The origin's chain state is stored in the same transaction, guarded against another
 * writer, so a crash or a redelivery changes nothing.
 */
export class Acceptor {
  private states = new Map<string, OriginState>();
  private heldCount = new Map<string, number>();
  readonly totals: Outcome = { records: 0, checkpoints: 0, duplicates: 0, held: 0, quarantined: 0 };

  constructor(
    private readonly pool: Pool,
    private readonly keys: ReadonlyMap<string, readonly Verifier[]>,
    private readonly log: Logger,
    private readonly maxHeldPerOrigin = 1_000_000,
  ) {}

  /** Reads every origin's state and held count (at start, and after a conflict). */
  async load(): Promise<void> {
    const states = new Map<string, OriginState>();
    const { rows } = await this.pool.query<{ origin: string; next_seq: string; last_hash: string; tree_size: string; peaks: string[] }>(
      'SELECT origin, next_seq, last_hash, tree_size, peaks FROM sealog_origins',
    );
    for (const r of rows)
      states.set(r.origin, {
        nextSeq: Number(r.next_seq),
        lastHash: r.last_hash,
        tree: new CompactTree(
          Number(r.tree_size),
          r.peaks.map((p) => Buffer.from(p, 'hex')),
        ),
      });
    const held = await this.pool.query<{ origin: string; n: string }>('SELECT origin, count(*) AS n FROM sealog_held GROUP BY origin');
    this.states = states;
    this.heldCount = new Map(held.rows.map((r) => [r.origin, Number(r.n)]));
  }

  /** Origins with records held behind a gap, and the seq each is waiting for. */
  waiting(): { origin: string; next_seq: number; held: number }[] {
    return [...this.heldCount].filter(([, n]) => n > 0).map(([origin, held]) => ({ origin, next_seq: this.states.get(origin)?.nextSeq ?? 0, held }));
  }

  /** Verifies and writes one batch; resolves once its transaction has committed. */
  async accept(items: readonly Item[]): Promise<Outcome> {
    for (let attempt = 0; ; attempt++) {
      const db = await this.pool.connect();
      try {
        await db.query('BEGIN');
        const { plan, work, before } = await this.plan(db, items);
        await insertRecords(db, plan.records);
        await insertCheckpoints(db, plan.checkpoints);
        await insertQuarantine(db, plan.quarantine);
        await deleteHeld(db, plan.taken);
        await saveStates(db, work, before);
        await db.query('COMMIT');
        for (const [origin, s] of work) this.states.set(origin, s);
        for (const h of plan.held) this.heldCount.set(h.origin, (this.heldCount.get(h.origin) ?? 0) + 1);
        for (const h of plan.taken) this.heldCount.set(h.origin, (this.heldCount.get(h.origin) ?? 1) - 1);
        for (const [origin, n] of plan.remaining) this.heldCount.set(origin, n);
        for (const q of plan.quarantine)
          this.log.warn({ subject: q.subject, origin: q.headers['Sealog-Origin'], reason: q.reason }, 'quarantined: not stored among the records');
        const out = {
          records: plan.records.length,
          checkpoints: plan.checkpoints.length,
          duplicates: plan.duplicates,
          held: plan.held.length,
          quarantined: plan.quarantine.length,
        };
        for (const k of Object.keys(out) as (keyof Outcome)[]) this.totals[k] += out[k];
        return out;
      } catch (err) {
        await db.query('ROLLBACK').catch(() => {});
        if (!(err instanceof Conflict) || attempt >= 5) {
          // The batch will come again (redelivered, or retried by a sink): from the database's state.
          await this.load().catch(() => {});
          throw err;
        }
        this.log.info({ reason: err.message }, 'origin state changed under the collector (another writer, or an acknowledged gap): reloading');
        await this.load();
      } finally {
        db.release();
      }
    }
  }

  private async plan(db: PoolClient, items: readonly Item[]) {
    const plan: Plan = { records: [], checkpoints: [], quarantine: [], held: [], taken: [], olds: [], duplicates: 0, remaining: new Map() };
    const work = new Map<string, OriginState>();
    const before = new Map<string, number | undefined>();
    const state = (origin: string): OriginState => {
      let s = work.get(origin);
      if (!s) {
        const c = this.states.get(origin);
        before.set(origin, c?.nextSeq);
        s = c ? { nextSeq: c.nextSeq, lastHash: c.lastHash, tree: c.tree.clone() } : initialState();
        work.set(origin, s);
      }
      return s;
    };
    const newlyHeld = new Map<string, number>();
    for (const item of items) {
      if (item.kind === 'bad') {
        plan.quarantine.push(quarantined(item, item.reason));
        continue;
      }
      const keys = this.keys.get(item.origin);
      if (!keys?.length) {
        plan.quarantine.push(quarantined(item, `unknown origin ${JSON.stringify(item.origin)}: no key is pinned for it`));
        continue;
      }
      const s = state(item.origin);
      const at = item.kind === 'record' ? item.seq : item.size;
      if (at > s.nextSeq) {
        const count = (this.heldCount.get(item.origin) ?? 0) + (newlyHeld.get(item.origin) ?? 0);
        if (count >= this.maxHeldPerOrigin) plan.quarantine.push(quarantined(item, `over ${this.maxHeldPerOrigin} messages held behind a gap for this origin`));
        else {
          plan.held.push(heldRow(item));
          newlyHeld.set(item.origin, (newlyHeld.get(item.origin) ?? 0) + 1);
        }
        continue;
      }
      this.check(item, keys, s, plan);
    }
    await insertHeld(db, plan.held);
    for (const origin of new Set([...this.heldCount.keys(), ...newlyHeld.keys()])) {
      if ((this.heldCount.get(origin) ?? 0) + (newlyHeld.get(origin) ?? 0) > 0 && this.keys.has(origin)) await this.drain(db, origin, state(origin), plan);
    }
    await this.settleOlds(db, plan);
    return { plan, work, before };
  }

  /** A record or checkpoint whose turn it is (or that is already past). */
  private check(item: Exclude<Item, { kind: 'bad' }>, keys: readonly Verifier[], s: OriginState, plan: Plan): void {
    if (item.kind === 'record') {
      if (item.seq < s.nextSeq) {
        plan.olds.push(item);
        return;
      }
      const r = acceptRecord(item.origin, item.seq, item.body, item.headers[H_HASH], s);
      if (r.ok) plan.records.push(r.row);
      else plan.quarantine.push(quarantined(item, r.reason));
      return;
    }
    const c = acceptCheckpoint(item.origin, item.size, item.body, keys, s);
    if (!c.ok) {
      plan.quarantine.push(quarantined(item, c.reason));
      if (c.reason.startsWith('Merkle root mismatch'))
        this.log.error(
          { origin: item.origin, tree_size: item.size },
          'a signed checkpoint disagrees with the records received for its origin: a forged or altered record was accepted before it; run sealog verify --postgres',
        );
    } else plan.checkpoints.push(c.row);
  }

  /** Takes the held messages of an origin that now continue its chain, in log order. */
  private async drain(db: PoolClient, origin: string, s: OriginState, plan: Plan): Promise<void> {
    const keys = this.keys.get(origin)!;
    for (;;) {
      const { rows } = await db.query<{ kind: 'record' | 'checkpoint'; n: string; body_sha: string; subject: string; body: string }>(
        `SELECT kind, n, body_sha, subject, body FROM sealog_held WHERE origin = $1
         ORDER BY (CASE WHEN kind = 'checkpoint' THEN 2 * n ELSE 2 * n + 1 END), received_at LIMIT ${DRAIN_CHUNK}`,
        [origin],
      );
      let took = 0;
      for (const h of rows) {
        const n = Number(h.n);
        if (n > s.nextSeq) break;
        if (plan.taken.some((t) => t.origin === origin && t.kind === h.kind && t.n === n && t.body_sha === h.body_sha)) continue;
        const body = Buffer.from(h.body, 'utf8');
        const item: Exclude<Item, { kind: 'bad' }> =
          h.kind === 'record'
            ? { kind: 'record', origin, seq: n, body, subject: h.subject, headers: {} }
            : { kind: 'checkpoint', origin, size: n, body, subject: h.subject, headers: {} };
        this.check(item, keys, s, plan);
        plan.taken.push({ origin, kind: h.kind, n, body_sha: h.body_sha, subject: h.subject, body: h.body });
        took++;
      }
      if (rows.length < DRAIN_CHUNK) {
        plan.remaining.set(origin, rows.length - took);
        return;
      }
      if (took < DRAIN_CHUNK) return;
    }
  }

  /** A record already past: the same bytes as stored is a duplicate (changes nothing); other bytes are a replay, quarantined. */
  private async settleOlds(db: PoolClient, plan: Plan): Promise<void> {
    if (!plan.olds.length) return;
    const fresh = new Map(plan.records.map((r) => [`${r.origin}\n${r.seq}`, r.line]));
    const { rows } = await db.query<{ origin: string; seq: string; line: string }>(
      'SELECT r.origin, r.seq, r.line FROM sealog_records r JOIN unnest($1::text[], $2::bigint[]) AS o(origin, seq) ON r.origin = o.origin AND r.seq = o.seq',
      [plan.olds.map((o) => o.origin), plan.olds.map((o) => o.seq)],
    );
    const stored = new Map(rows.map((r) => [`${r.origin}\n${r.seq}`, r.line]));
    for (const o of plan.olds) {
      const key = `${o.origin}\n${o.seq}`;
      const line = fresh.get(key) ?? stored.get(key);
      if (line === undefined) plan.quarantine.push(quarantined(o, `seq ${o.seq} arrived after a gap over it was acknowledged`));
      else if ((typeof line === 'string' ? Buffer.from(line, 'utf8') : line).equals(o.body)) plan.duplicates++;
      else plan.quarantine.push(quarantined(o, `replayed seq ${o.seq} with other content than the record stored`));
    }
  }
}

function quarantined(item: Item, reason: string): QuarantineRow {
  return { subject: item.subject, headers: item.headers, body: bodyText(item.body), reason };
}

function heldRow(item: Exclude<Item, { kind: 'bad' }>): HeldRow {
  return {
    origin: item.origin,
    kind: item.kind,
    n: item.kind === 'record' ? item.seq : item.size,
    body_sha: createHash('sha256').update(item.body).digest('hex'),
    subject: item.subject,
    body: item.body.toString('utf8'),
  };
}

async function deleteHeld(db: PoolClient, taken: HeldRow[]): Promise<void> {
  if (!taken.length) return;
  await db.query(
    'DELETE FROM sealog_held h USING unnest($1::text[], $2::text[], $3::bigint[], $4::text[]) AS t(origin, kind, n, body_sha) WHERE h.origin = t.origin AND h.kind = t.kind AND h.n = t.n AND h.body_sha = t.body_sha',
    [taken.map((t) => t.origin), taken.map((t) => t.kind), taken.map((t) => t.n), taken.map((t) => t.body_sha)],
  );
}

/** Writes each touched origin's state, only if no one else moved it since we read it. */
async function saveStates(db: PoolClient, work: Map<string, OriginState>, before: Map<string, number | undefined>): Promise<void> {
  for (const [origin, s] of work) {
    const was = before.get(origin);
    const args = [origin, s.nextSeq, s.lastHash, s.tree.size, s.tree.peaks.map((p) => p.toString('hex'))];
    const r =
      was === undefined
        ? await db.query(
            'INSERT INTO sealog_origins (origin, next_seq, last_hash, tree_size, peaks) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (origin) DO NOTHING',
            args,
          )
        : await db.query(
            'UPDATE sealog_origins SET next_seq = $2, last_hash = $3, tree_size = $4, peaks = $5, updated_at = now() WHERE origin = $1 AND next_seq = $6',
            [...args, was],
          );
    if (r.rowCount !== 1) throw new Conflict(`origin ${origin} was at seq ${was ?? 'none'} when read, and has moved`);
  }
}
