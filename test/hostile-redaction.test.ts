import assert from 'node:assert/strict';
import { test } from 'node:test';
import { client, harness, type Client } from './helpers/daemon.js';

// A producer sending strings built to make redaction rescan (issue 18 item 2: `pwd=${pwd=${…`
// cost seconds of CPU per event and held every other producer's acks) through the real daemon,
// compared in the same daemon with the same producer sending the same number of bytes of
// ordinary events. Judged on ratios of the two phases, never on a wall-clock figure.

const h = harness();
const KB192 = 192 * 1024;
const hostile = [
  JSON.stringify({ msg: 'pwd=${'.repeat(KB192 / 6) }),
  JSON.stringify({ note: 'ssn=${'.repeat(KB192 / 6) }),
  JSON.stringify({ text: 'first_name:${'.repeat(KB192 / 13) }),
  'pwd=<'.repeat(KB192 / 5), // not JSON: the dead letter scans it as raw text
];
const ordinary = (bytes: number) => {
  const one = JSON.stringify({
    event_type: 'AgentRequestEvent',
    agent_id: 'planner_agent',
    session_id: '34e136a9-c529-43a0-adc5-aea7228f4e9f',
    payload: { text: 'Completion as tool confidence instrument' },
  });
  return Array.from({ length: Math.ceil(bytes / one.length) }, () => one);
};

interface Phase {
  /** Time from A's first write to A's last ack. */
  a: number;
  /** B's slowest round trip (one event, its commit ack) while A's lines were in the daemon. */
  b: number;
}

/** A sends `lines` and waits for every ack; meanwhile B sends one event at a time and times each ack. */
async function phase(a: Client, b: Client, lines: string[]): Promise<Phase> {
  const acked = () => a.committed + a.acks.filter((x) => x.ack === 'rejected').length;
  const before = acked();
  let done = false;
  let slowest = 0;
  const bLoop = (async () => {
    while (!done) {
      const want = b.committed + 1;
      const t = process.hrtime.bigint();
      await b.send([JSON.stringify({ event_type: 'Heartbeat', n: want })]);
      await b.waitFor(() => b.committed >= want, 'B acked', 120_000);
      slowest = Math.max(slowest, Number(process.hrtime.bigint() - t) / 1e6);
    }
  })();
  const t = process.hrtime.bigint();
  await a.send(lines);
  await a.waitFor(() => acked() - before >= lines.length, 'A acked', 600_000);
  const aMs = Number(process.hrtime.bigint() - t) / 1e6;
  done = true;
  await bLoop;
  return { a: aMs, b: slowest };
}

test('a producer of hostile strings does not hold up another producer: both cost what the same bytes of ordinary events cost, within a bounded factor', async () => {
  const t = h.fresh();
  const d = await h.start(t);
  const a = await client(t.socket);
  const b = await client(t.socket);
  const bytes = hostile.reduce((n, l) => n + l.length, 0);
  await phase(a, b, ordinary(bytes)); // warm-up: JIT, first segment
  const normal = await phase(a, b, ordinary(bytes));
  const bad = await phase(a, b, hostile);
  const ratioA = bad.a / normal.a;
  const ratioB = bad.b / normal.b;
  const figures = `A ${bad.a.toFixed(0)} vs ${normal.a.toFixed(0)} ms, B's slowest ack ${bad.b.toFixed(0)} vs ${normal.b.toFixed(0)} ms`;
  assert.ok(ratioA <= 20, `the hostile lines took ${ratioA.toFixed(1)}× the ordinary ones (${figures})`);
  assert.ok(ratioB <= 20, `B waited ${ratioB.toFixed(1)}× longer for an ack (${figures})`);
  // Every hostile line was sealed: three events (redacted) and one dead letter.
  const rejected = a.acks.filter((x) => x.ack === 'rejected');
  assert.equal(rejected.length, 1);
  await a.end();
  await b.end();
  assert.equal(await d.stop(), 0);
});
