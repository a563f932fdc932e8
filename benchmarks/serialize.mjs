#!/usr/bin/env node
// What serialize costs the front's worker per event, in this process (no daemon), CPU time from
// process.cpuUsage: --events seeded events (lib/events.mjs) parsed, sanitized and classified
// once, then only their serialization (canonical JSON of event, meta and redactions written
// into the results message, 256 records a message as the worker packs them) timed, --runs
// times, median µs/event:
//   ordinary  the seeded events: a producer's few recurring object shapes (key lists)
//   hostile   the same events, each with a key no other event has: every event a new shape,
//             so the shape cache never hits and keeps being emptied (what an input built to
//             defeat it costs)
//   twice     the same, each new shape in two events in a row (a shape is made on its second sighting)
// The drafts are kept in memory for the whole run, so each one is cold in the CPU caches:
// figures are higher than serialize's share of the in-pipeline worker (cpu-per-event.mjs).
// Compare two builds by running this script in each checkout, alternately, in the same sitting.
//
// usage: node benchmarks/serialize.mjs [--events N] [--runs R]
// Needs a built daemon (npx tsc -p .). Reports figures; asserts nothing. Not in run-all.
import { join } from 'node:path';
import { makeEvents } from './lib/events.mjs';
import { parseOptions } from './lib/options.mjs';
import { ROOT } from './lib/proc.mjs';

const opts = parseOptions(process.argv.slice(2));
const N = process.argv.includes('--events') ? opts.events : 100_000;
const RUNS = process.argv.includes('--runs') ? opts.runs : 9;
const imp = (p) => import(join(ROOT, 'dist/src', p));
const { loadConfig } = await imp('config.js');
const { classifierFor } = await imp('front/front.js');
const { parse } = await imp('stages/parse.js');
const { createSanitizer } = await imp('stages/sanitize.js');
const { createRedactor } = await imp('redact/redactor.js');
const { createPseudonymizer } = await imp('crypto/pseudonym.js');
const { packInto } = await imp('stages/serialize.js');
const { encodeResults } = await imp('front/protocol.js');

const cfg = loadConfig(undefined, { data: '/nonexistent' });
const redactor = createRedactor(cfg.redact, createPseudonymizer(Buffer.alloc(32, 1)));
const s = cfg.sanitize;
const sanitize = createSanitizer({ maxDepth: s.max_depth, maxStringChars: s.max_string_chars, maxItems: s.max_items }, redactor);
const classify = classifierFor(cfg);
const draftsOf = (lines) => lines.map((l, i) => classify(sanitize(parse({ bytes: Buffer.from(l), source: { kind: 'socket', conn: 1, line: i + 1 } }))));
const lines = makeEvents(N, 42);
const ordinary = draftsOf(lines);
const hostile = draftsOf(lines.map((l, i) => `{"k${i}":${i},${l.slice(1)}`));
const twice = draftsOf(lines.map((l, i) => `{"k${i >> 1}":${i},${l.slice(1)}`));

const packDraft = (d, w, cuts, at) => packInto(w, d, cfg.dedupe.enabled, cuts, at);
function run(drafts) {
  const t = process.cpuUsage();
  for (let i = 0; i < N; i += 256) encodeResults(drafts.slice(i, i + 256), packDraft, 256 * 1024);
  const d = process.cpuUsage(t);
  return (d.user + d.system) / N;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const range = (xs) => `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}`;
run(ordinary); // warm-up
run(hostile);
run(twice);
const t = { ordinary: [], hostile: [], twice: [] };
for (let r = 0; r < RUNS; r++) {
  t.ordinary.push(run(ordinary));
  t.hostile.push(run(hostile));
  t.twice.push(run(twice));
}
const load = (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(
  `${ROOT}: ${N} events x ${RUNS} runs, load ${load}; serialize µs/event median (range): ` +
    `ordinary ${median(t.ordinary).toFixed(2)} (${range(t.ordinary)}), hostile shapes ${median(t.hostile).toFixed(2)} (${range(t.hostile)}), each twice ${median(t.twice).toFixed(2)} (${range(t.twice)})`,
);
