#!/usr/bin/env node
// What secret/PII redaction costs, in this process (no daemon), CPU time from process.cpuUsage:
//   1. the scan of every string value (>= 5 chars) of --events seeded events (lib/events.mjs), with
//      the prefilter and with every detector run on every string, interleaved --runs times:
//      µs of CPU per event, median, and the in-run ratio;
//   2. the front (parse, sanitize, classify, canonical serialization) per event, the same lines;
//   3. hostile lines (issue 18: strings built to make a scanner rescan), 192 KB and 1 MiB each:
//      the front's CPU per KB against the ordinary events' per KB measured in the same run.
//
// usage: node benchmarks/redaction.mjs [--events N] [--runs R] [--no-hostile]
// (--no-hostile skips part 3: on a build before the linear scan, one 1 MiB line took minutes)
// Needs a built daemon (npx tsc -p .). Reports figures; asserts nothing. Not in run-all.
import { join } from 'node:path';
import { makeEventObjects } from './lib/events.mjs';
import { isMain, machine, machineLine } from './lib/machine.mjs';
import { parseOptions } from './lib/options.mjs';
import { ROOT, runMain } from './lib/proc.mjs';

const { loadConfig } = await import(join(ROOT, 'dist/src/config.js'));
const { createPseudonymizer } = await import(join(ROOT, 'dist/src/crypto/pseudonym.js'));
const { createRedactor } = await import(join(ROOT, 'dist/src/redact/redactor.js'));
const { createFront } = await import(join(ROOT, 'dist/src/front/front.js'));

const KEY = Buffer.alloc(32, 1);
const SRC = { kind: 'socket', conn: 1, line: 1 };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function cpuMicros(fn) {
  const t = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t);
  return d.user + d.system;
}

function stringsOf(events) {
  const out = [];
  const walk = (v) => {
    if (typeof v === 'string') {
      if (v.length >= 5) out.push(v);
    } else if (v && typeof v === 'object') {
      for (const x of Object.values(v)) walk(x); // keys: scanned once each, then cached (sanitize.ts)
    }
  };
  events.forEach(walk);
  return out;
}

/** CPU µs per KB of the front over these lines (a new front each time: no key cached from before). */
function frontPerKB(cfg, lines) {
  const kb = lines.reduce((n, l) => n + l.length, 0) / 1024;
  const front = createFront(cfg, KEY);
  return cpuMicros(() => lines.forEach((bytes) => front.run({ bytes, source: SRC }))) / kb;
}

const HOSTILE = {
  'pwd=${…': (n) => JSON.stringify({ msg: 'pwd=${'.repeat(n / 6) }),
  'pwd=<…>': (n) => JSON.stringify({ msg: `${'pwd=<'.repeat(n / 5)}>` }),
  'ssn=${…': (n) => JSON.stringify({ msg: 'ssn=${'.repeat(n / 6) }),
  'first_name:${…': (n) => JSON.stringify({ msg: 'first_name:${'.repeat(n / 13) }),
  'pwd=${… (dead letter)': (n) => 'pwd=${'.repeat(n / 6),
  "'::5' (an IPv6 hit every 4 chars)": (n) => JSON.stringify({ msg: "'::5".repeat(n / 4) }),
  'a@b.cc (an email every 7 chars)': (n) => JSON.stringify({ msg: 'a@b.cc '.repeat(n / 7) }),
};

async function main() {
  const o = parseOptions(process.argv.slice(2), { 'no-hostile': { type: 'boolean', default: false } });
  if (o.help) {
    console.log(
      'usage: node benchmarks/redaction.mjs [--events N] [--runs R] [--no-hostile]\n  redaction CPU per event (prefilter on vs off, interleaved) and per KB of hostile lines vs ordinary events',
    );
    return;
  }
  const events = Math.min(o.events, 200_000);
  const cfg = loadConfig(undefined);
  console.log('redaction: CPU per event and per KB, in-process');
  console.log(
    `  method    process.cpuUsage around each pass; ${events.toLocaleString('en-US')} seeded events (seed ${o.seed}) parsed from JSON; ${o.runs} interleaved runs, median`,
  );
  console.log(`  machine   ${machineLine(machine())}`);

  // Strings as JSON.parse makes them (flat), not as the generator built them.
  const parsed = JSON.parse(JSON.stringify(makeEventObjects(events, o.seed)));
  const strings = stringsOf(parsed);
  const lines = parsed.map((e) => Buffer.from(JSON.stringify(e)));
  const pseudonymize = createPseudonymizer(KEY);
  const scans = {
    prefilter: createRedactor(cfg.redact, pseudonymize).scan,
    'every detector': createRedactor(cfg.redact, pseudonymize, { noPrefilter: true }).scan,
  };
  const noop = () => {};
  for (const scan of Object.values(scans)) for (const s of strings) scan(s, noop); // warm up
  const perEvent = { prefilter: [], 'every detector': [] };
  const ratios = [];
  for (let r = 0; r < o.runs; r++) {
    const order = r % 2 === 0 ? ['prefilter', 'every detector'] : ['every detector', 'prefilter'];
    const run = {};
    for (const name of order) run[name] = cpuMicros(() => strings.forEach((s) => scans[name](s, noop))) / events;
    for (const name of order) perEvent[name].push(run[name]);
    ratios.push(run.prefilter / run['every detector']);
  }
  console.log(`\n  scan of ${(strings.length / events).toFixed(1)} strings per event`);
  for (const [name, xs] of Object.entries(perEvent))
    console.log(`    ${name.padEnd(16)} ${median(xs).toFixed(2)} µs/event (${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)})`);
  console.log(`    prefilter ÷ every detector, in-run: ${median(ratios).toFixed(2)}x (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`);

  frontPerKB(cfg, lines);
  const normals = Array.from({ length: o.runs }, () => frontPerKB(cfg, lines));
  const normal = median(normals);
  const kbPerEvent = lines.reduce((n, l) => n + l.length, 0) / 1024 / events;
  console.log(`\n  front (parse, sanitize, classify, serialize): ${(normal * kbPerEvent).toFixed(2)} µs/event, ${normal.toFixed(1)} µs/KB`);

  if (o['no-hostile']) return;
  console.log('\n  hostile line                           192 KB: µs/KB  × ordinary    1 MiB: µs/KB  × ordinary');
  for (const [name, make] of Object.entries(HOSTILE)) {
    const cells = [192 * 1024, 1024 * 1024].map((n) => {
      const line = Buffer.from(make(n));
      const perKB = Math.min(frontPerKB(cfg, [line]), frontPerKB(cfg, [line]));
      return `${perKB.toFixed(0).padStart(12)}  ${(perKB / normal).toFixed(1).padStart(9)}x`;
    });
    console.log(`    ${name.padEnd(35)}${cells.join('    ')}`);
  }
  console.log("\n  × ordinary: the line's CPU per KB over the ordinary events' per KB in this run (issue 18: at most ~50x)");
}

if (isMain(import.meta.url)) runMain(main);
