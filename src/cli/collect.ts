import { userInfo } from 'node:os';
import pg from 'pg';
import { Acceptor } from '../collect/acceptor.js';
import { runCollector } from '../collect/collector.js';
import { acknowledgeGap, collectStatus } from '../collect/gaps.js';
import { loadOriginKeys } from '../collect/keys.js';
import { ensureSchema } from '../collect/schema.js';
import { ErrorCode, SealogError } from '../errors.js';
import { parseDuration } from '../jobs/retention.js';
import { createLogger } from '../log.js';
import { parseFlags } from './args.js';

export const help = `sealog collect --nats URL --postgres URL --keys FILE [options]
sealog collect status --postgres URL [--json]
sealog collect ack-gap --postgres URL --origin ORIGIN --reason TEXT [--by NAME]

Collects the trails of many hosts (their jetstream sinks) from NATS JetStream into
PostgreSQL. A durable consumer fetches batches; each batch is verified per origin
and written in one transaction, and only then acked, so a crash or a redelivery
changes nothing. Per origin every record's hash, prev and seq continuity and every
checkpoint's signature (and Merkle root) are checked under the key pinned for it;
anything that fails (forged, altered, replayed with other content, unknown origin)
goes to sealog_quarantine with a log line, never among the records. A record that
comes after a gap is held (sealog_held) until the missing ones arrive or an
operator acknowledges the gap (ack-gap). Creates the tables and indexes it needs.

  --nats URL            NATS server (e.g. nats://127.0.0.1:4222)
  --postgres URL        PostgreSQL connection string
  --keys FILE           one verifier key per line; the key name is the origin it pins
  --stream NAME         JetStream stream (default SEALOG; created when missing)
  --subject-root R      first subject token (default sealog: subjects sealog.>)
  --durable NAME        durable consumer name (default sealog-collect)
  --batch N             messages per transaction (default 2000, 1..20000)
  --max-body BYTES      largest message body taken (default 16777216)
  --duplicate-window D  the stream's duplicate window when it creates it (default 10m)
  --ack-wait D          redelivery of a batch not acked in time, e.g. by a collector
                        that died (default 30s; set when the consumer is created)
  --log-level L         trace|debug|info|warn|error (default info)

status    per origin: next seq, records held behind a gap and the first held seq,
          acknowledged gaps, checkpoints; and the quarantine count. Exit 1 when an
          origin is waiting behind a gap or anything was quarantined in the last hour.
ack-gap   the records of ORIGIN from its next seq to just before the first held one
          are lost for good: the chain resumes there. Recorded in sealog_gaps with
          --by (default: your user name) and --reason; verify --postgres still
          reports the gap.

SIGTERM or SIGINT: finish and ack the batch in hand, exit 0. Exit 2 on usage errors.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      nats: { type: 'string' },
      postgres: { type: 'string' },
      keys: { type: 'string' },
      stream: { type: 'string' },
      'subject-root': { type: 'string' },
      durable: { type: 'string' },
      batch: { type: 'string' },
      'max-body': { type: 'string' },
      'duplicate-window': { type: 'string' },
      'ack-wait': { type: 'string' },
      'log-level': { type: 'string' },
      origin: { type: 'string' },
      reason: { type: 'string' },
      by: { type: 'string' },
      json: { type: 'boolean' },
    },
    true,
  );
  if (values.help) {
    console.log(help);
    return 0;
  }
  const [sub, ...extra] = positionals;
  if (extra.length || (sub !== undefined && sub !== 'status' && sub !== 'ack-gap'))
    throw new SealogError(ErrorCode.USAGE, `unexpected argument ${JSON.stringify(sub ?? extra[0])}`);
  if (!values.postgres) throw new SealogError(ErrorCode.USAGE, '--postgres URL is required');
  const pool = new pg.Pool({ connectionString: values.postgres, max: 4 });
  try {
    if (sub === 'status') return await status(pool, !!values.json);
    if (sub === 'ack-gap') {
      if (!values.origin || !values.reason) throw new SealogError(ErrorCode.USAGE, 'ack-gap needs --origin and --reason');
      await ensureSchema(pool);
      const gap = await acknowledgeGap(pool, values.origin, values.by ?? userInfo().username, values.reason);
      console.log(JSON.stringify({ acknowledged: gap }));
      return 0;
    }
    return await collect(pool, values);
  } finally {
    await pool.end();
  }
}

function intFlag(text: string | undefined, name: string, dflt: number, min: number, max: number): number {
  if (text === undefined) return dflt;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new SealogError(ErrorCode.USAGE, `--${name} must be an integer from ${min} to ${max}, not ${text}`);
  return n;
}

async function collect(pool: pg.Pool, v: Record<string, string | boolean | undefined>): Promise<number> {
  if (typeof v.nats !== 'string' || typeof v.keys !== 'string')
    throw new SealogError(ErrorCode.USAGE, 'collect needs --nats URL, --postgres URL and --keys FILE');
  const duration = (flag: string, dflt: string) => {
    try {
      return parseDuration((v[flag] as string | undefined) ?? dflt);
    } catch (err) {
      throw new SealogError(ErrorCode.USAGE, `--${flag}: ${(err as Error).message}`);
    }
  };
  const windowMs = duration('duplicate-window', '10m');
  const ackWaitMs = duration('ack-wait', '30s');
  const keys = loadOriginKeys(v.keys);
  const log = createLogger((v['log-level'] as string | undefined) ?? 'info');
  const stream = (v.stream as string | undefined) ?? 'SEALOG';
  const subjectRoot = (v['subject-root'] as string | undefined) ?? 'sealog';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(subjectRoot)) throw new SealogError(ErrorCode.USAGE, '--subject-root must be 1-64 characters of [A-Za-z0-9_-]');
  const durable = (v.durable as string | undefined) ?? 'sealog-collect';
  const batch = intFlag(v.batch as string | undefined, 'batch', 2000, 1, 20_000);
  const maxBody = intFlag(v['max-body'] as string | undefined, 'max-body', 16 * 1024 * 1024, 1024, 64 * 1024 * 1024);
  // One collector per database and consumer: its chain state lives in memory between batches.
  await ensureSchema(pool);
  const lock = await pool.connect();
  try {
    const { rows } = await lock.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [`sealog:collect:${stream}:${durable}`]);
    if (!rows[0]!.ok)
      throw new SealogError(ErrorCode.DATA_LOCKED, `another sealog collect for stream ${stream}, consumer ${durable} is running on this database`);
    const acceptor = new Acceptor(pool, keys, log);
    await acceptor.load();
    const ac = new AbortController();
    const onSignal = (sig: string) => {
      log.info({ signal: sig }, 'collect: stopping after the batch in hand');
      ac.abort();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    log.info({ nats: v.nats, stream, durable, origins: [...keys.keys()] }, 'sealog collect ready');
    await runCollector({ natsUrl: v.nats, stream, subjectRoot, durable, duplicateWindowMs: windowMs, ackWaitMs, batch, maxBody, acceptor, log }, ac.signal);
    log.info({ totals: acceptor.totals }, 'sealog collect stopped');
    log.flush();
    return 0;
  } finally {
    lock.release();
  }
}

async function status(pool: pg.Pool, json: boolean): Promise<number> {
  const s = await collectStatus(pool);
  if (json) console.log(JSON.stringify(s));
  else {
    console.log(`quarantined  ${s.quarantined} (${s.quarantined_last_hour} in the last hour)`);
    for (const o of s.origins) {
      const waiting = o.held ? `WAITING for seq ${o.next_seq} (${o.held} held, first held seq ${o.first_held ?? '-'})` : 'in order';
      console.log(
        `${o.origin}  next seq ${o.next_seq}  ${waiting}  checkpoints ${o.checkpoints} (newest ${o.newest_checkpoint ?? '-'})  acknowledged gaps ${o.acknowledged_gaps}  updated ${o.updated_at}`,
      );
    }
  }
  return s.origins.some((o) => o.held > 0) || s.quarantined_last_hour > 0 ? 1 : 0;
}
