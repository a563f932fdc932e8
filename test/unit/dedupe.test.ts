import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Deduper } from '../../src/stages/dedupe.js';
import { serialize } from '../../src/stages/serialize.js';
import type { AckTarget, Draft, JsonObject, JsonValue, Packed } from '../../src/types.js';

/** An ack target that records what it was told, in order. */
function target() {
  const told: string[] = [];
  const t: AckTarget = {
    committed: (n, line, seq) => told.push(`commit ${n} ${line} ${seq}`),
    rejected: (line, seq, code) => told.push(`rejected ${line} ${seq} ${code}`),
    duplicate: (line: number, seq: number, id: JsonValue) => told.push(`duplicate ${line} ${seq} ${JSON.stringify(id)}`),
  };
  return { t, told };
}

let lineNo = 0;
const draft = (event: JsonObject, ack?: AckTarget, extra: Partial<Draft> = {}): Packed =>
  serialize({ source: { kind: 'socket', conn: 1, line: ++lineNo }, ack, event, redactions: [], ...extra }, true);

/** Runs drafts through the stage; returns the seq each forwarded one gets (as seal would give it), or 'dup'. */
function run(d: Deduper, drafts: Packed[], firstSeq: { next: number }): (number | 'dup')[] {
  // A chunk each: the stage passes on what it keeps of each, in order.
  return drafts.map((x) => {
    const out = d.stage([x]);
    assert.ok(!(out instanceof Promise));
    return out.length === 0 ? 'dup' : firstSeq.next++;
  });
}

test('dedupe: the same event_id and content is sealed once; the resend is acked with the first seq once it is durable', () => {
  const d = new Deduper({ windowMs: 60_000, maxEntries: 100, nextSeq: 10 });
  const { t, told } = target();
  const seq = { next: 10 };
  const first = draft({ event_id: 'a', n: 1 }, t);
  const plain = draft({ n: 2 }, t);
  const again = draft({ event_id: 'a', n: 1 }, t);
  assert.deepEqual(run(d, [first, plain, again], seq), [10, 11, 'dup']);
  assert.deepEqual(told, [], 'nothing is promised before the first is durable');
  d.committed(10);
  assert.deepEqual(told, [], 'the resend waits for everything passed on before it (its sender keeps its order)');
  d.committed(11);
  assert.deepEqual(told, [`duplicate ${again.source.line} 10 "a"`]);
  // Once durable, a later resend is answered at once.
  const third = draft({ event_id: 'a', n: 1 }, t);
  assert.deepEqual(run(d, [third], seq), ['dup']);
  assert.equal(told[1], `duplicate ${third.source.line} 10 "a"`);
  assert.deepEqual(d.counts, { duplicates: 2, conflicts: 0 });
});

test('dedupe: events without a usable event_id, rejected and system drafts pass untouched', () => {
  const d = new Deduper({ windowMs: 60_000, maxEntries: 100, nextSeq: 0 });
  const seq = { next: 0 };
  const drafts = [
    draft({ n: 1 }),
    draft({ n: 1 }),
    draft({ event_id: '' }),
    draft({ event_id: '' }),
    draft({ event_id: null }),
    draft({ event_id: null }),
    draft({ event_id: { x: 1 } }),
    draft({ event_id: { x: 1 } }),
    draft({ event_id: '[REDACTED:x]' }, undefined, { redactions: [{ path: 'event.event_id', kind: 'secret:x' }] }),
    draft({ event_id: '[REDACTED:x]' }, undefined, { redactions: [{ path: 'event.event_id', kind: 'secret:x' }] }),
    draft({ event_id: 'r', code: 'E_X' }, undefined, { rejected: { code: 'E_X', reason: 'x' } }),
    draft({ event_id: 'r', code: 'E_X' }, undefined, { rejected: { code: 'E_X', reason: 'x' } }),
    draft({ event_id: 's' }, undefined, { system: true }),
    draft({ event_id: 's' }, undefined, { system: true }),
    // A number and a string of the same digits are different ids.
    draft({ event_id: 7 }),
    draft({ event_id: '7' }),
  ];
  assert.deepEqual(
    run(d, drafts, seq),
    drafts.map((_, i) => i),
  );
});

test('dedupe: the same id on a different event is a different event and is kept', () => {
  const d = new Deduper({ windowMs: 60_000, maxEntries: 100, nextSeq: 0 });
  const seq = { next: 0 };
  assert.deepEqual(run(d, [draft({ event_id: 'a', n: 1 }), draft({ event_id: 'a', n: 2 }), draft({ event_id: 'a', n: 1 })], seq), [0, 1, 'dup']);
  assert.deepEqual(d.counts, { duplicates: 1, conflicts: 1 });
  // Key order does not make a different event (the content is compared canonically).
  assert.deepEqual(run(d, [draft({ event_id: 'b', x: 1, y: 2 }), draft({ y: 2, event_id: 'b', x: 1 })], seq), [2, 'dup']);
});

test('dedupe: an id is forgotten after the window, and at most maxEntries are kept', () => {
  let now = 1_000_000;
  const d = new Deduper({ windowMs: 1000, maxEntries: 3, nextSeq: 0, now: () => now });
  const seq = { next: 0 };
  assert.deepEqual(run(d, [draft({ event_id: 'a' }), draft({ event_id: 'a' })], seq), [0, 'dup']);
  now += 1001;
  assert.deepEqual(run(d, [draft({ event_id: 'a' })], seq), [1], 'outside the window it is new again');
  assert.deepEqual(
    run(
      d,
      ['b', 'c', 'd', 'e'].map((id) => draft({ event_id: id })),
      seq,
    ),
    [2, 3, 4, 5],
  );
  assert.equal(d.entries, 3);
  assert.deepEqual(run(d, [draft({ event_id: 'e' }), draft({ event_id: 'b' })], seq), ['dup', 6], 'the oldest id went first');
  assert.ok(d.entries <= 3);
});

test('dedupe: the window rebuilt from committed records catches a resend after a restart', () => {
  const now = Date.parse('2026-11-23T12:00:00Z');
  const d = new Deduper({ windowMs: 60_000, maxEntries: 100, nextSeq: 50, now: () => now });
  const rec = (seq: number, ts: string, event: JsonObject, extra: Record<string, unknown> = {}) => ({
    seq,
    ts,
    source: { kind: 'socket' as const, conn: 1, line: seq },
    event,
    redactions: [],
    stream: 'application',
    ...extra,
  });
  d.replay(rec(40, '2026-11-23T11:58:00.000000Z', { event_id: 'old' })); // before the window
  d.replay(rec(41, '2026-11-23T11:59:30.123456Z', { event_id: 'recent', n: 1 }));
  d.replay(rec(42, '2026-11-23T11:59:31.000000Z', { event_id: 'dead', code: 'E_SCHEMA' }, { stream: 'rejected' }));
  d.replay(rec(43, '2026-11-23T11:59:32.000000Z', { event_id: 'recent', n: 1 })); // a conflict kept earlier: the first stays
  assert.equal(d.entries, 1);
  const { t, told } = target();
  const resend = draft({ event_id: 'recent', n: 1 }, t);
  const seq = { next: 50 };
  assert.deepEqual(run(d, [resend, draft({ event_id: 'old' }, t), draft({ event_id: 'dead', code: 'E_SCHEMA' }, t)], seq), ['dup', 50, 51]);
  assert.deepEqual(told, [`duplicate ${resend.source.line} 41 "recent"`], 'a replayed record is durable: acked at once');
});

test('dedupe: a flood of resends waiting for a commit pauses the stage instead of piling up', async () => {
  const d = new Deduper({ windowMs: 60_000, maxEntries: 100, nextSeq: 0, maxWaiting: 3 });
  const { t, told } = target();
  // seq 0, then seq 1 (the resends wait for it), then three resends: the mark.
  assert.equal((d.stage([draft({ event_id: 'a' }, t), draft({ n: 0 }, t), draft({ event_id: 'a' }, t)]) as Packed[]).length, 2);
  const outs = [1, 2, 3].map(() => d.stage([draft({ event_id: 'a' }, t)]));
  assert.deepEqual(outs.slice(0, 2), [[], []]);
  assert.ok(outs[2] instanceof Promise, 'with three acks waiting, the next chunk waits');
  let resumed: Packed[] | undefined;
  void (outs[2] as Promise<Packed[]>).then((out) => (resumed = out));
  await new Promise((r) => setImmediate(r));
  assert.equal(resumed, undefined);
  d.committed(0);
  await new Promise((r) => setImmediate(r));
  assert.equal(resumed, undefined, 'a commit that acks none of them lets nothing through');
  d.committed(1);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(resumed, [], 'the held chunk is taken once the acks went out');
  assert.equal(told.length, 4, 'the three, then the held resend at once (what it waits for is durable)');
});
