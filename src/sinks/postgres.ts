import pg from 'pg';
import { Acceptor } from '../collect/acceptor.js';
import { ensureSchema } from '../collect/schema.js';
import { SUBJECT_ROOT, checkpointSubject, H_HASH, H_ORIGIN, H_SEQ, H_TREE_SIZE, recordSubject, type Item } from '../collect/wire.js';
import type { Verifier } from '../crypto/keys.js';
import type { Logger } from '../log.js';
import type { Delivery, Sink } from './sink.js';

export interface PostgresSinkOptions {
  url: string;
  origin: string;
  /** This log's own public keys (its key ring): the sink checks what it writes like the collector does. */
  keys: Verifier[];
  log: Logger;
}

/**
 * DESIGN §11's postgres sink, for a site without NATS: writes this log's records and
 * checkpoints into the collector's tables directly, through the collector's own
 * verify-and-write path (one transaction per batch, chain state kept beside the rows).
 */
export class PostgresSink implements Sink {
  readonly type = 'postgres';
  private readonly pool: pg.Pool;
  private acceptor: Acceptor | undefined;

  constructor(private readonly o: PostgresSinkOptions) {
    this.pool = new pg.Pool({ connectionString: o.url, max: 2, connectionTimeoutMillis: 5000 });
    this.pool.on('error', (err) => o.log.warn({ sink: 'postgres', error: err.message }, 'sink: PostgreSQL connection error'));
  }

  async deliver(batch: Delivery[]): Promise<void> {
    if (!this.acceptor) {
      await ensureSchema(this.pool);
      const a = new Acceptor(this.pool, new Map([[this.o.origin, this.o.keys]]), this.o.log);
      await a.load();
      this.acceptor = a;
    }
    const origin = this.o.origin;
    const items = batch.map(
      (d): Item =>
        d.kind === 'record'
          ? {
              kind: 'record',
              origin,
              seq: d.seq,
              body: d.line,
              subject: recordSubject(SUBJECT_ROOT, origin, d.stream),
              headers: { [H_ORIGIN]: origin, [H_SEQ]: String(d.seq), [H_HASH]: d.hash },
            }
          : {
              kind: 'checkpoint',
              origin,
              size: d.size,
              body: d.note,
              subject: checkpointSubject(SUBJECT_ROOT, origin),
              headers: { [H_ORIGIN]: origin, [H_TREE_SIZE]: String(d.size) },
            },
    );
    const out = await this.acceptor.accept(items);
    // The log's own records failing here means the database was written by someone else.
    if (out.quarantined)
      throw new Error(
        `${out.quarantined} of this log's own messages were quarantined in PostgreSQL (another writer for origin ${origin}?); see sealog_quarantine`,
      );
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => {});
  }
}
