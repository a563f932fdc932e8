import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { createClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { ZERO_HASH_HEX } from '../src/crypto/hash.js';
import { loadSigner, writeKeys } from '../src/crypto/keyFiles.js';
import { assemble, buildPipeline } from '../src/daemon/pipeline.js';
import { EventCounts } from '../src/eventCounts.js';
import type { ToWorker } from '../src/front/protocol.js';
import { FrontStage } from '../src/front/stage.js';
import { createLogger } from '../src/log.js';
import { ownDraft, OwnType } from '../src/ownRecords.js';
import { Ingest } from '../src/sources/ingest.js';
import { createSealer } from '../src/stages/seal.js';
import { Status } from '../src/status.js';
import { queueDepths } from '../src/statusReport.js';
import { layout } from '../src/store/layout.js';
import { recordsFrom } from '../src/store/scan.js';
import type { AckTarget, Packed, RawLine } from '../src/types.js';
import { harness, waitUntil } from './helpers/daemon.js';

// The stream adapters, assembled as the daemon assembles them, in this process: no root,
// no socket, the real front worker, stages and store.

const h = harness();
const cfg = loadConfig(undefined);

/** Polls `read` until it has not changed for `quietMs`: the pipeline has moved all it can. */
async function settled(read: () => string, quietMs = 500): Promise<void> {
  let last = read();
  let since = Date.now();
  await waitUntil(() => {
    const now = read();
    if (now !== last) [last, since] = [now, Date.now()];
    return Date.now() - since >= quietMs;
  }, 'the pipeline to settle');
}

test('a sink that never takes a frame: every stream stays within its mark and the producer is told to wait', async () => {
  const front = new FrontStage(cfg, randomBytes(32));
  await front.ready;
  let frames = 0;
  const stuck = new Writable({ objectMode: true, highWaterMark: 1, write: () => void frames++ }); // never calls back
  const batchLimits = { maxRecords: 64, maxBytes: 64 * 1024, lingerMs: 2 };
  const stream = assemble({ front, seal: createSealer({ nextSeq: 0, prev: ZERO_HASH_HEX }, createClock()), batchLimits, sink: stuck }, cfg.limits.queue_items);
  const ingest = new Ingest(stream, new EventCounts());
  // A producer that never stops on its own: it writes until told to wait, as every source does.
  const line = Buffer.from(JSON.stringify({ msg: 'x'.repeat(1000) }));
  let written = 0;
  let resumed = 0;
  const produce = () => {
    while (!ingest.full) {
      ingest.write({ bytes: line, source: { kind: 'socket' } });
      written++;
    }
    ingest.whenReady(() => {
      resumed++;
      produce();
    });
  };
  produce();
  await waitUntil(() => frames === 1 && ingest.full, 'the sink to hold its first frame and the producer to be told to wait');
  await settled(() => `${written} ${frames} ${JSON.stringify(queueDepths(stream.streams))}`);
  try {
    assert.equal(frames, 1, 'the sink got one frame and never finished it');
    const depths = queueDepths(stream.streams);
    for (const [i, q] of depths.entries()) assert.ok(q.items <= q.mark, `stream ${i}: ${q.items} items over its mark ${q.mark}`);
    assert.ok(stream.writableLength <= stream.writableHighWaterMark, `entrance: ${stream.writableLength} over ${stream.writableHighWaterMark}`);
    // Every line is in a buffer that has its mark; the batches hold up to maxRecords lines per item.
    const bound = stream.writableHighWaterMark + depths.reduce((n, q) => n + q.mark, 0) * batchLimits.maxRecords;
    assert.ok(written <= bound, `${written} lines taken, over the ${bound} the marks allow`);
    assert.ok(written > cfg.limits.queue_items, `the pipeline took more than its entrance holds (${written})`);
    assert.ok(ingest.full, 'the producer is still told to wait');
    assert.ok(resumed < written, 'and it waited');
  } finally {
    stream.destroy();
  }
});

for (const workers of [1, 3])
  test(`the front's output keeps the input order across its inline and worker paths (${workers} worker${workers > 1 ? 's' : ''})`, async () => {
    const front = new FrontStage(cfg, randomBytes(32), workers);
    await front.ready;
    assert.equal(front.workers.length, workers);
    let viaWorker = 0;
    const perWorker = front.workers.map(() => 0);
    for (const [w, worker] of front.workers.entries()) {
      const post = worker.postMessage.bind(worker);
      worker.postMessage = (m: ToWorker, transfer?: Parameters<Worker['postMessage']>[1]) => {
        if (m.type === 'lines') {
          viaWorker += m.kinds.length;
          perWorker[w]! += m.kinds.length;
        }
        post(m, transfer);
      };
    }
    const out: Packed[] = [];
    const reading = (async () => {
      for await (const chunk of front) out.push(...(chunk as Packed[]));
    })();
    const ack: AckTarget = { committed() {}, rejected() {}, duplicate() {} };
    // Bursts of a few lines (inline while the worker is idle) and of hundreds (chunks to the worker),
    // with bad lines and sealog's own records among them, written with and without pauses.
    let n = 0;
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const lineFor = (i: number): RawLine =>
      i % 97 === 5
        ? { bytes: Buffer.alloc(0), source: { kind: 'sealog' }, system: ownDraft(OwnType.HOLD_PLACED, { i }, 'info', ack) }
        : i % 89 === 3
          ? { bytes: Buffer.from(`{"i":${i},`), source: { kind: 'socket', line: i } }
          : { bytes: Buffer.from(`{"i":${i}}`), source: { kind: 'socket', line: i } };
    for (let burst = 0; burst < 120; burst++) {
      const size = next() < 0.6 ? 1 + Math.floor(next() * 20) : 100 + Math.floor(next() * 500);
      for (let k = 0; k < size; k++) if (!front.write(lineFor(n++))) await new Promise((r) => front.once('drain', r));
      const pause = next();
      if (pause < 0.5) await new Promise((r) => setImmediate(r));
      else if (pause < 0.75) await new Promise((r) => setTimeout(r, 3));
    }
    front.end();
    await reading;
    assert.equal(out.length, n);
    // The records' parts as bytes, from the workers and the inline path alike.
    const eventOf = (s: Packed) => (JSON.parse(`${s.buf.toString('utf8', s.start, s.prev)}"}`) as { event: { i: number } }).event.i;
    const order = out.map((s) => (s.rejected ? s.source.line : eventOf(s)));
    for (let i = 0; i < n; i++) assert.equal(order[i], i, `position ${i}`);
    assert.ok(viaWorker > 0 && viaWorker < n, `both paths ran: ${viaWorker} of ${n} lines through the workers`);
    if (workers > 1) assert.ok(perWorker.filter((k) => k > 0).length > 1, `chunks went to more than one worker: ${perWorker.join(', ')}`);
  });

test('a front worker that dies: the pipeline fails loudly, and nothing was acknowledged that is not committed', async () => {
  const t = h.fresh();
  // Three workers: one of them dies, the others are still working.
  const c = { ...loadConfig(undefined, { data: t.data }), front: { workers: 3 } };
  const l = layout(c.data_dir);
  for (const dir of [l.segments, l.checkpoints]) await mkdir(dir, { recursive: true });
  await writeKeys(l, c.origin);
  const p = await buildPipeline(c, l, await loadSigner(l), undefined, new Status(), createLogger('silent'));
  assert.equal(p.front.workers.length, 3);
  const acked: { through: number; seq: number }[] = [];
  const ack: AckTarget = { committed: (_n, through, seq) => acked.push({ through, seq }), rejected() {}, duplicate() {} };
  let line = 0;
  const write = (count: number) => {
    for (let i = 0; i < count; i++) p.ingest.write({ bytes: Buffer.from(`{"n":${++line}}`), source: { kind: 'socket', conn: 1, line }, ack });
  };
  write(50);
  await Promise.race([waitUntil(() => acked.length > 0, 'a first commit'), p.done]);
  write(5000); // in flight, at the worker or behind it, when it dies
  const failed = assert.rejects(p.done, /front worker exited/);
  await p.front.workers[1]!.terminate();
  await failed;
  // A frame already at the store still commits (and is acked) after the failure: wait for it, so
  // every ack sent is checked against the log as it ends up.
  await p.store.enqueue(async () => {}).catch(() => {});
  const committed = new Map<number, number>();
  for await (const r of recordsFrom(l, 0, c.limits.max_frame_bytes)) committed.set(r.seq, r.source.line);
  for (const a of acked) assert.equal(committed.get(a.seq), a.through, `ack through line ${a.through} at seq ${a.seq} is in the log`);
  assert.ok(committed.size < line, `not everything written was committed (${committed.size} of ${line})`);
});
