import { connect, headers, type JetStreamClient, type NatsConnection, type PubAck } from 'nats';
import { ensureStream } from '../collect/stream.js';
import { checkpointMsgId, checkpointSubject, H_HASH, H_ORIGIN, H_SEQ, H_TREE_SIZE, recordMsgId, recordSubject } from '../collect/wire.js';
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
  log: Logger;
}

/**
 * DESIGN §11's JetStream sink: one message per record (body = the stored line) and per
 * checkpoint (body = the note), with Nats-Msg-Id `<origin>/<seq>` so JetStream drops a
 * resend inside its duplicate window. Publishes with a bounded window of in-flight
 * PubAcks; a batch is acknowledged when every message of it is.
 */
export class JetStreamSink implements Sink {
  readonly type = 'jetstream';
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;

  constructor(private readonly o: JetStreamSinkOptions) {}

  async deliver(batch: Delivery[]): Promise<void> {
    const js = await this.connected();
    const maxPayload = this.nc!.info?.max_payload ?? Infinity;
    const inFlight: Promise<PubAck>[] = [];
    let failure: Error | undefined;
    const settle = (p: Promise<PubAck>) => p.catch((err: Error) => void (failure ??= err));
    for (const d of batch) {
      const h = headers();
      h.set(H_ORIGIN, this.o.origin);
      let subject: string, body: Buffer, msgID: string;
      if (d.kind === 'record') {
        [subject, body, msgID] = [recordSubject(this.o.subjectRoot, this.o.origin, d.stream), d.line, recordMsgId(this.o.origin, d.seq)];
        h.set(H_SEQ, String(d.seq));
        h.set(H_HASH, d.hash);
      } else {
        [subject, body, msgID] = [checkpointSubject(this.o.subjectRoot, this.o.origin), d.note, checkpointMsgId(this.o.origin, d.size)];
        h.set(H_TREE_SIZE, String(d.size));
      }
      if (body.length > maxPayload)
        throw new Error(
          `${d.kind} ${d.kind === 'record' ? d.seq : d.size} is ${body.length} bytes, over the NATS server's max_payload of ${maxPayload}: raise max_payload`,
        );
      inFlight.push(js.publish(subject, body, { msgID, headers: h, timeout: 10_000 }));
      if (inFlight.length >= this.o.maxInFlight) await settle(inFlight.shift()!);
      if (failure) break;
    }
    await Promise.all(inFlight.map(settle));
    if (failure) {
      if (this.nc?.isClosed()) this.nc = this.js = undefined;
      throw new Error(`JetStream publish: ${failure.message}`);
    }
  }

  /** Connects (and creates the stream) on first use; later outages are the client's to reconnect. */
  private async connected(): Promise<JetStreamClient> {
    if (this.js && this.nc && !this.nc.isClosed()) return this.js;
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
    this.nc = nc;
    this.js = nc.jetstream({ timeout: 10_000 });
    return this.js;
  }

  async close(): Promise<void> {
    await this.nc?.drain().catch(() => {});
    this.nc = this.js = undefined;
  }
}
