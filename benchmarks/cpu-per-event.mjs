#!/usr/bin/env node
// The daemon's CPU per event on its write path, in this process (no daemon, no sockets, no
// disk), so that a change to one stage can be measured on a loaded machine: CPU time from
// process.cpuUsage, phase by phase, over --events seeded events (lib/events.mjs) in the
// chunks the daemon uses (256 lines to the worker, 4096 records a batch), --runs times:
//   to worker   encodeLines (main thread)
//   worker      decodeLines, the front (parse, sanitize, classify, serialize), encodeResults
//   transfer    structuredClone of both messages with their transfer lists (postMessage's copy)
//   main        decodeResult, dedupe off, seal, a batch's lines joined for LZ4 (its slabs then free, as at a commit)
// LZ4, fsync and the sockets are not included (throughput.mjs measures the whole daemon).
// Each phase's median µs/event; compare two builds by running this script in each checkout,
// alternately, in the same sitting.
//
// usage: node benchmarks/cpu-per-event.mjs [--events N] [--runs R]
// Needs a built daemon (npx tsc -p .). Reports figures; asserts nothing. Not in run-all.
import { join } from 'node:path';
import { makeEvents } from './lib/events.mjs';
import { parseOptions } from './lib/options.mjs';
import { ROOT } from './lib/proc.mjs';

const opts = parseOptions(process.argv.slice(2));
const N = process.argv.includes('--events') ? opts.events : 100_000;
const RUNS = process.argv.includes('--runs') ? opts.runs : 5;
const imp = (p) => import(join(ROOT, 'dist/src', p));
const { loadConfig } = await imp('config.js');
const { createFront } = await imp('front/front.js');
const proto = await imp('front/protocol.js');
const { createSealer, Slabs } = await imp('stages/seal.js');
const compress = await imp('stages/compress.js');

const cfg = loadConfig(undefined, { data: '/nonexistent' });
const front = createFront(cfg, Buffer.alloc(32, 1));
const lines = makeEvents(N, 42).map((s, i) => ({
  bytes: Buffer.from(s),
  source: { kind: 'socket', conn: 1, line: i + 1, peer: { pid: 4242, uid: 1000, gid: 1000 } },
}));
const direct = front.runInto !== undefined; // each record written straight into the results message (builds with runInto) or serialized apart, then packed
const sizeHint = (m) => Math.ceil(m.bytes.byteLength * 1.25) + m.ends.length * 256;
const joined =
  compress.joined ??
  ((b) =>
    Buffer.concat(
      b.records.map((r) => r.line),
      b.bytes,
    ));

function cpu(fn) {
  const t = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t);
  return d.user + d.system;
}

/** One pass over every event, chunk by chunk as the daemon goes (so what one chunk allocates dies before the next). */
function run() {
  const t = { toWorker: 0, worker: 0, transfer: 0, main: 0, bytes: 0 };
  // As the daemon does: a batch's slabs are used again once it is committed (builds that have Slabs).
  const slabs = Slabs && new Slabs();
  const seal = createSealer({ nextSeq: 0, prev: '0'.repeat(64) }, () => '2026-12-07T04:00:00.000000Z', slabs);
  let batch = { records: [], bytes: 0 };
  const add = (s) => {
    batch.records.push(s);
    batch.bytes += s.line.length;
    if (batch.records.length === 4096) {
      t.bytes += joined(batch).length;
      slabs?.committed(s.seq);
      batch = { records: [], bytes: 0 };
    }
  };
  for (let i = 0; i < N; i += 256) {
    const chunk = lines.slice(i, i + 256);
    let m;
    let back;
    t.toWorker += cpu(() => {
      m = proto.encodeLines(
        chunk,
        chunk.reduce((n, l) => n + l.bytes.length, 0),
      );
    });
    t.transfer += cpu(() => {
      m = structuredClone(m.message, { transfer: m.transfer });
    });
    t.worker += cpu(() => {
      back = direct
        ? proto.encodeResults(proto.decodeLines(m), front.runInto, sizeHint(m))
        : proto.encodeResults(proto.decodeLines(m).map(front.run), sizeHint(m));
    });
    t.transfer += cpu(() => {
      back = structuredClone(back.message, { transfer: back.transfer });
    });
    t.main += cpu(() => {
      for (let k = 0; k < chunk.length; k++) add(seal(proto.decodeResult(back, k, chunk[k])));
    });
  }
  t.main += cpu(() => {
    if (batch.records.length) t.bytes += joined(batch).length;
  });
  return t;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
run(); // warm-up
const runs = [];
for (let r = 0; r < RUNS; r++) runs.push(run());
const per = (k) => (median(runs.map((x) => x[k])) / N).toFixed(2);
const total = (median(runs.map((x) => x.toWorker + x.worker + x.transfer + x.main)) / N).toFixed(2);
console.log(
  `${ROOT}: ${N} events x ${RUNS} runs, load ${(await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}; ` +
    `µs/event median: to worker ${per('toWorker')}, worker ${per('worker')}, transfer ${per('transfer')}, main ${per('main')}, total ${total} ` +
    `(${(runs[0].bytes / N).toFixed(0)} B/record, results ${direct ? 'written direct' : 'packed'})`,
);
