import { setTimeout as sleep } from 'node:timers/promises';
import { AckPolicy, connect, DeliverPolicy, nanos, type ConsumerMessages, type JsMsg, type NatsConnection } from 'nats';
import type { Logger } from '../log.js';
import type { Acceptor, Outcome } from './acceptor.js';
import { ensureStream } from './stream.js';
import { classify, type Item } from './wire.js';

export interface CollectorOptions {
  natsUrl: string;
  stream: string;
  /** First subject token (default sealog). */
  subjectRoot: string;
  durable: string;
  duplicateWindowMs: number;
  /** How long JetStream waits for an ack before it redelivers (a collector killed mid-batch). */
  ackWaitMs: number;
  /** Most messages written per PostgreSQL transaction (and pulled per request). */
  batch: number;
  /** Largest message body taken; a larger one is quarantined (its first maxBody bytes kept). */
  maxBody: number;
  acceptor: Acceptor;
  log: Logger;
}

/**
 * `sealog collect`'s loop. The durable consumer is consumed continuously: the client keeps
 * pull requests open and queues what arrives (at most the consumer's max_ack_pending,
 * since nothing is acked before its transaction commits), so NATS delivers while
 * PostgreSQL writes. Each turn takes what has queued, up to --batch messages, verifies and
 * writes it in one transaction, and only after COMMIT acks its messages: a group commit
 * that grows with the load and stays one message small when idle.
 *
 * A batch that cannot be written is kept and tried again with backoff (NATS or PostgreSQL
 * away: it waits and goes on by itself); a crash anywhere leaves it unacked, so JetStream
 * redelivers it, and a redelivered message changes nothing. Messages held longer than half
 * the ack wait (a slow or stalled database) are marked as in progress, so JetStream does
 * not send them again meanwhile.
 */
export async function runCollector(o: CollectorOptions, signal: AbortSignal): Promise<void> {
  const nc = await connect({ servers: o.natsUrl, name: 'sealog-collect', maxReconnectAttempts: -1, reconnectTimeWait: 250, waitOnFirstConnect: true });
  void watchConnection(nc, o.log);
  const queue: { m: JsMsg; at: number }[] = [];
  let wake: (() => void) | undefined;
  const nudge = () => wake?.();
  signal.addEventListener('abort', nudge, { once: true });
  let lastReport = Date.now();
  let consuming: ConsumerMessages | undefined;
  let ended = false;
  /** (Re)starts the consume; false when stopped first. The client itself rides out reconnects; this is for a consume that ended (its consumer deleted, say). */
  const start = async (): Promise<boolean> => {
    const consumer = await openConsumer(nc, o, signal);
    if (!consumer) return false;
    ended = false;
    const c = await consumer.consume({
      max_messages: o.batch,
      // Pull requests that expire (and heartbeats at half that) soon: one lost with a cut connection is replaced within seconds.
      expires: 5000,
      callback: (m) => {
        queue.push({ m, at: Date.now() });
        nudge();
      },
    });
    void c.closed().then(
      (err) => {
        if (c !== consuming || signal.aborted) return;
        o.log.warn({ error: err ? err.message : null }, 'collect: the JetStream consume ended; starting it again');
        ended = true;
        nudge();
      },
      () => {},
    );
    consuming = c;
    return true;
  };
  try {
    if (!(await start())) return;
    while (!signal.aborted) {
      if (!queue.length) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 1000);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wake = undefined;
      }
      if (signal.aborted) break;
      if (ended && !queue.length && !(await start())) break;
      const taken = queue.splice(0, o.batch);
      if (taken.length) {
        const items = taken.map(({ m }) => classify(o.subjectRoot, m.subject, (h) => m.headers?.get(h), m.data, o.maxBody));
        const t0 = performance.now();
        const out = await writeBatch(o, items, taken, queue, signal);
        if (!out) break; // stopped while the database was away: the batch stays unacked, JetStream sends it again
        for (const { m } of taken) m.ack();
        o.log.debug({ messages: taken.length, queued: queue.length, writeMs: Math.round(performance.now() - t0), ...out }, 'collect: batch');
      } else if (o.acceptor.waiting().length) {
        // Idle: an operator may have acknowledged a gap; held records may now go in.
        await o.acceptor.accept([]).catch((err: Error) => o.log.warn({ error: err.message }, 'collect: held records not taken yet; retrying'));
      }
      if (Date.now() - lastReport >= 10_000) {
        lastReport = Date.now();
        o.log.info({ totals: o.acceptor.totals, waiting: o.acceptor.waiting() }, 'collect: progress');
      }
    }
  } finally {
    signal.removeEventListener('abort', nudge);
    consuming?.stop();
    await nc.drain().catch(() => {});
  }
}

/** Writes one batch, trying again with backoff until it commits; undefined when stopped first. */
async function writeBatch(
  o: CollectorOptions,
  items: Item[],
  taken: readonly { m: JsMsg; at: number }[],
  queue: readonly { m: JsMsg; at: number }[],
  signal: AbortSignal,
): Promise<Outcome | undefined> {
  for (let backoff = 100; ; backoff = Math.min(backoff * 2, 5000)) {
    keepAlive(o, taken, queue);
    try {
      return await o.acceptor.accept(items);
    } catch (err) {
      if (signal.aborted) return undefined;
      o.log.warn({ error: (err as Error).message, retryInMs: backoff }, 'collect: batch not written; retrying');
      await sleep(backoff, undefined, { signal }).catch(() => {});
      if (signal.aborted) return undefined;
    }
  }
}

/** Messages received more than half the ack wait ago are marked in progress, so JetStream does not redeliver them meanwhile. */
function keepAlive(o: CollectorOptions, ...lists: (readonly { m: JsMsg; at: number }[])[]): void {
  const now = Date.now();
  for (const list of lists)
    for (const e of list) {
      if (now - e.at < o.ackWaitMs / 2) continue;
      e.m.working();
      e.at = now;
    }
}

async function openConsumer(nc: NatsConnection, o: CollectorOptions, signal: AbortSignal) {
  for (let wait = 250; !signal.aborted; wait = Math.min(wait * 2, 5000)) {
    try {
      const jsm = await nc.jetstreamManager();
      await ensureStream(jsm, o.stream, o.subjectRoot, o.duplicateWindowMs);
      await jsm.consumers.add(o.stream, {
        durable_name: o.durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: `${o.subjectRoot}.>`,
        ack_wait: nanos(o.ackWaitMs),
        max_ack_pending: Math.max(1000, o.batch * 4),
      });
      return await nc.jetstream().consumers.get(o.stream, o.durable);
    } catch (err) {
      if (nc.isClosed()) throw err;
      o.log.warn({ error: (err as Error).message, retryInMs: wait }, 'collect: cannot open the JetStream consumer yet; retrying');
      await sleep(wait, undefined, { signal }).catch(() => {});
    }
  }
  return undefined;
}

async function watchConnection(nc: NatsConnection, log: Logger): Promise<void> {
  for await (const s of nc.status()) {
    if (s.type === 'disconnect') log.warn({ server: s.data }, 'collect: NATS connection lost; reconnecting');
    else if (s.type === 'reconnect') log.info({ server: s.data }, 'collect: NATS connection back');
  }
}
