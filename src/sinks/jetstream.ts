import { connect, createInbox, headers, type Msg, type NatsConnection, type Subscription } from 'nats';
import { ensureStream } from '../collect/stream.js';
import { checkpointMsgId, checkpointSubject, H_HASH, H_MSG_ID, H_ORIGIN, H_SEQ, H_TREE_SIZE, recordMsgId, recordSubject } from '../collect/wire.js';
import type { Logger } from '../log.js';
import type { Delivery, Sink } from './sink.js';

export interface JetStreamSinkOptions {
  url: string;
  stream: string;
  subjectRoot: string;
  origin: string;
  duplicateWindowMs: number;
  /** PubAcks awaited at once: the window that keeps the connection busy without unbounded memory. */
  maxInFlight: number;
  /** A batch fails when no PubAck arrives for this long (the connection went away mid-batch). */
  ackTimeoutMs?: number;
  log: Logger;
}

/** One batch's PubAcks, counted as they come back on the sink's reply subscription. */
interface Pending {
  gen: number;
  acked: Uint8Array;
  count: number;
  failure: string | undefined;
  /** Called on every PubAck (or failure): the publisher waits on it. */
  progress: (() => void) | undefined;
}

/**
 * DESIGN §11's JetStream sink: one message per record (body = the stored line) and per
 * checkpoint (body = the note), with Nats-Msg-Id `<origin>/<seq>` so JetStream drops a
 * resend inside its duplicate window. Publishes asynchronously with a bounded window of
 * in-flight PubAcks; a batch is acknowledged when every message of it is.
 *
 * The PubAcks come back on one reply subscription (`<inbox>.<batch>.<index>`) rather than
 * through the client's per-message request (a promise, a timer and an error object for
 * each message, which cost more than the publishing itself); one timer per batch fails it
 * when the PubAcks stop coming.
 */
export class JetStreamSink implements Sink {
  readonly type = 'jetstream';
  private nc: NatsConnection | undefined;
  private inbox = '';
  private sub: Subscription | undefined;
  private gen = 0;
  private pending: Pending | undefined;

  constructor(private readonly o: JetStreamSinkOptions) {}

  async deliver(batch: Delivery[]): Promise<void> {
    const nc = await this.connected();
    const maxPayload = nc.info?.max_payload ?? Infinity;
    const p: Pending = { gen: ++this.gen, acked: new Uint8Array(batch.length), count: 0, failure: undefined, progress: undefined };
    this.pending = p;
    const window = Math.max(1, this.o.maxInFlight);
    const timeoutMs = this.o.ackTimeoutMs ?? 10_000;
    try {
      for (let i = 0; i < batch.length; i++) {
        const d = batch[i]!;
        const h = headers();
        h.set(H_ORIGIN, this.o.origin);
        let subject: string, body: Buffer;
        if (d.kind === 'record') {
          [subject, body] = [recordSubject(this.o.subjectRoot, this.o.origin, d.stream), d.line];
          h.set(H_MSG_ID, recordMsgId(this.o.origin, d.seq));
          h.set(H_SEQ, String(d.seq));
          h.set(H_HASH, d.hash);
        } else {
          [subject, body] = [checkpointSubject(this.o.subjectRoot, this.o.origin), d.note];
          h.set(H_MSG_ID, checkpointMsgId(this.o.origin, d.size));
          h.set(H_TREE_SIZE, String(d.size));
        }
        if (body.length > maxPayload)
          throw new Error(
            `${d.kind} ${d.kind === 'record' ? d.seq : d.size} is ${body.length} bytes, over the NATS server's max_payload of ${maxPayload}: raise max_payload`,
          );
        nc.publish(subject, body, { reply: `${this.inbox}.${p.gen}.${i}`, headers: h });
        if (i + 1 - p.count >= window) await this.until(p, () => i + 1 - p.count < window, timeoutMs);
        if (p.failure) break;
      }
      if (!p.failure) await this.until(p, () => p.count === batch.length, timeoutMs);
    } catch (err) {
      p.failure ??= (err as Error).message;
    } finally {
      this.pending = undefined;
    }
    if (p.failure) {
      if (this.nc?.isClosed()) this.nc = this.sub = undefined;
      throw new Error(`JetStream publish: ${p.failure}`);
    }
  }

  /** Waits until `done()` holds or a failure came back; fails when no PubAck arrives for `timeoutMs`. */
  private until(p: Pending, done: () => boolean, timeoutMs: number): Promise<void> {
    if (done() || p.failure) return Promise.resolve();
    return new Promise((resolve) => {
      let timer = setTimeout(expire, timeoutMs);
      function expire() {
        p.failure ??= `no PubAck for ${timeoutMs} ms (${p.count} of the batch acknowledged)`;
        finish();
      }
      function finish() {
        clearTimeout(timer);
        p.progress = undefined;
        resolve();
      }
      p.progress = () => {
        if (done() || p.failure) finish();
        else {
          clearTimeout(timer);
          timer = setTimeout(expire, timeoutMs);
        }
      };
    });
  }

  /** A PubAck (or an error in its place) for message <gen>.<index>; one of an earlier batch is ignored. */
  private onReply(m: Msg): void {
    const p = this.pending;
    const tail = m.subject.slice(this.inbox.length + 1);
    const dot = tail.indexOf('.');
    if (!p || Number(tail.slice(0, dot)) !== p.gen) return;
    const i = Number(tail.slice(dot + 1));
    if (!(i >= 0 && i < p.acked.length) || p.acked[i]) return;
    let failure: string | undefined;
    if (m.headers?.hasError || !m.data.length)
      failure = m.headers?.code === 503 ? `no JetStream stream takes ${this.o.subjectRoot}.> (503 no responders)` : `status ${m.headers?.code ?? '?'}`;
    else {
      try {
        const pa = JSON.parse(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength).toString('utf8')) as {
          stream?: string;
          error?: { description?: string; code?: number };
        };
        if (pa.error) failure = `${pa.error.description ?? 'error'} (${pa.error.code ?? '?'})`;
        else if (!pa.stream) failure = 'invalid PubAck (no stream)';
      } catch {
        failure = 'PubAck is not JSON';
      }
    }
    if (failure) p.failure ??= failure;
    else {
      p.acked[i] = 1;
      p.count++;
    }
    p.progress?.();
  }

  /** Connects (and creates the stream) on first use; later outages are the client's to reconnect. */
  private async connected(): Promise<NatsConnection> {
    if (this.nc && this.sub && !this.nc.isClosed()) return this.nc;
    const nc = await connect({ servers: this.o.url, name: `sealog-sink ${this.o.origin}`, maxReconnectAttempts: -1, reconnectTimeWait: 500, timeout: 5000 });
    try {
      await ensureStream(await nc.jetstreamManager(), this.o.stream, this.o.subjectRoot, this.o.duplicateWindowMs);
    } catch (err) {
      await nc.close();
      throw err;
    }
    void (async () => {
      for await (const s of nc.status())
        if (s.type === 'disconnect' || s.type === 'reconnect') this.o.log.info({ sink: 'jetstream', event: s.type }, `sink: NATS ${s.type}`);
    })();
    this.inbox = createInbox();
    this.sub = nc.subscribe(`${this.inbox}.>`, {
      callback: (err, m) => {
        if (!err) return this.onReply(m);
        if (this.pending) this.pending.failure ??= err.message;
        this.pending?.progress?.();
      },
    });
    this.nc = nc;
    return nc;
  }

  async close(): Promise<void> {
    await this.nc?.drain().catch(() => {});
    this.nc = this.sub = undefined;
  }
}
