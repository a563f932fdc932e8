import { setTimeout as sleep } from 'node:timers/promises';
import { AckPolicy, connect, DeliverPolicy, nanos, type JsMsg, type NatsConnection } from 'nats';
import type { Logger } from '../log.js';
import type { Acceptor } from './acceptor.js';
import { ensureStream } from './stream.js';
import { classify } from './wire.js';

export interface CollectorOptions {
  natsUrl: string;
  stream: string;
  /** First subject token (default sealog). */
  subjectRoot: string;
  durable: string;
  duplicateWindowMs: number;
  /** How long JetStream waits for an ack before it redelivers (a collector killed mid-batch). */
  ackWaitMs: number;
  /** Messages fetched and written per PostgreSQL transaction. */
  batch: number;
  /** Largest message body taken; a larger one is quarantined (its first maxBody bytes kept). */
  maxBody: number;
  acceptor: Acceptor;
  log: Logger;
}

/**
 * `sealog collect`'s loop: fetch a batch from the durable consumer, verify and write it
 * in one transaction, and only after COMMIT ack the messages. A crash anywhere leaves the
 * batch unacked, so JetStream redelivers it, and a redelivered message changes nothing.
 * NATS or PostgreSQL away: the loop waits with backoff and goes on by itself.
 */
export async function runCollector(o: CollectorOptions, signal: AbortSignal): Promise<void> {
  const nc = await connect({ servers: o.natsUrl, name: 'sealog-collect', maxReconnectAttempts: -1, reconnectTimeWait: 250, waitOnFirstConnect: true });
  void watchConnection(nc, o.log);
  const stop = () => void nc.close().catch(() => {});
  signal.addEventListener('abort', stop, { once: true });
  let backoff = 100;
  let lastReport = Date.now();
  try {
    const consumer = await openConsumer(nc, o);
    while (!signal.aborted) {
      try {
        const msgs: JsMsg[] = [];
        const t0 = performance.now();
        for await (const m of await consumer.fetch({ max_messages: o.batch, expires: 1000 })) msgs.push(m);
        if (msgs.length) {
          const t1 = performance.now();
          const out = await o.acceptor.accept(msgs.map((m) => classify(o.subjectRoot, m.subject, (h) => m.headers?.get(h), m.data, o.maxBody)));
          for (const m of msgs) m.ack();
          o.log.debug({ messages: msgs.length, fetchMs: Math.round(t1 - t0), writeMs: Math.round(performance.now() - t1), ...out }, 'collect: batch');
        } else if (o.acceptor.waiting().length) {
          // Idle: an operator may have acknowledged a gap; held records may now go in.
          await o.acceptor.accept([]);
        }
        backoff = 100;
      } catch (err) {
        if (signal.aborted) break;
        o.log.warn({ error: (err as Error).message, retryInMs: backoff }, 'collect: batch not written (it will be redelivered); retrying');
        await sleep(backoff, undefined, { signal }).catch(() => {});
        backoff = Math.min(backoff * 2, 5000);
      }
      if (Date.now() - lastReport >= 10_000) {
        lastReport = Date.now();
        o.log.info({ totals: o.acceptor.totals, waiting: o.acceptor.waiting() }, 'collect: progress');
      }
    }
  } finally {
    signal.removeEventListener('abort', stop);
    await nc.drain().catch(() => {});
  }
}

async function openConsumer(nc: NatsConnection, o: CollectorOptions) {
  for (let wait = 250; ; wait = Math.min(wait * 2, 5000)) {
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
      await sleep(wait);
    }
  }
}

async function watchConnection(nc: NatsConnection, log: Logger): Promise<void> {
  for await (const s of nc.status()) {
    if (s.type === 'disconnect') log.warn({ server: s.data }, 'collect: NATS connection lost; reconnecting');
    else if (s.type === 'reconnect') log.info({ server: s.data }, 'collect: NATS connection back');
  }
}
