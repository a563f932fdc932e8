#!/usr/bin/env node
// Core scaling: the same events through sealog (every stage on, fsync per batch,
// acks) with the daemon pinned by taskset to one core and to two, and with
// front.workers 1 against auto (and 2) on two cores. Variants run interleaved
// within each run, in an order rotated from run to run; the 2-core/1-core ratio
// is the median of in-run ratios (issue #17's goal: >= 1.8x). The client runs in
// this process, not pinned: on a 2-core machine it shares the cores with the
// daemon, so the 2-core figure is charged for it and the 1-core one is not.
//
// usage: node benchmarks/scaling.mjs [--events N] [--runs R] [--clients C] [--seed S] [--quick]
// Needs a built daemon (npx tsc -p .) and taskset (util-linux).
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { makeBuffer } from './lib/events.mjs';
import { isMain, machine, machineLine } from './lib/machine.mjs';
import { COMMON_USAGE, parseOptions } from './lib/options.mjs';
import { runMain, splitLines } from './lib/proc.mjs';
import { fmtNum, markdownTable, median, textTable } from './lib/stats.mjs';
import { runSealog } from './lib/systems.mjs';

const USAGE = `usage: node benchmarks/scaling.mjs [options]\n${COMMON_USAGE}`;

/** The variants: cores the daemon may run on (taskset -c) and its front.workers. */
export const VARIANTS = [
  { key: '1core', name: 'taskset -c 0, workers auto', cpus: '0', workers: 'auto' },
  { key: '2core', name: 'taskset -c 0,1, workers auto', cpus: '0,1', workers: 'auto' },
  { key: '2core-w1', name: 'taskset -c 0,1, workers 1', cpus: '0,1', workers: 1 },
  { key: '2core-w2', name: 'taskset -c 0,1, workers 2', cpus: '0,1', workers: 2 },
];

/** front.workers auto as the daemon resolves it for `cpus` cores (src/front/stage.ts frontWorkers). */
const autoFor = (cpus) => Math.max(1, cpus.split(',').length - 1);
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

export async function runScaling(o, { input = makeBuffer(o.events, o.seed), log = console.log } = {}) {
  const ctx = { N: o.events, input, parts: splitLines(input, o.clients) };
  const method = [
    `input     ${fmtNum(o.events)} seeded events (${(input.length / 1e6).toFixed(1)} MB NDJSON), ${o.clients} clients with acks, fsync per batch, every stage on`,
    `runs      ${o.runs}; every variant once per run, order rotated; timed: first byte sent -> last commit ack`,
    `daemon    started under taskset -c <cpus> (front.workers auto resolves from that affinity); CPU = utime+stime of the`,
    `          daemon (all threads) over the timed interval from /proc; peak RSS = VmHWM. Client in this process, unpinned.`,
    `checks    acks cover every event, clean exit, segments decode to N records (verify is left to throughput.mjs)`,
  ];
  for (const l of method) log(`  ${l}`);
  const rows = Object.fromEntries(VARIANTS.map((v) => [v.key, []]));
  const ratios = { twoVsOne: [], w1VsAuto: [] };
  for (let run = 0; run < o.runs; run++) {
    const order = VARIANTS.map((_, i) => VARIANTS[(i + run) % VARIANTS.length]);
    const res = {};
    for (const v of order) {
      const before = loadavg();
      const r = await runSealog(ctx, { verify: false, cpus: v.cpus, config: { front: { workers: v.workers } } });
      if (r.check !== 'ok') throw new Error(`${v.name}: ${r.check}`);
      const row = { eps: o.events / r.wallSec, cpuUsPerEvent: (r.cpuSec * 1e6) / o.events, peakRssMiB: r.peakRssKiB / 1024, load: before };
      res[v.key] = row;
      rows[v.key].push(row);
      log(
        `  run ${run + 1}  ${v.name.padEnd(30)} ${fmtNum(row.eps).padStart(9)} events/s  ${row.cpuUsPerEvent.toFixed(1).padStart(5)} µs CPU/event  peak RSS ${row.peakRssMiB.toFixed(0)} MiB  (load ${before})`,
      );
    }
    ratios.twoVsOne.push(res['2core'].eps / res['1core'].eps);
    ratios.w1VsAuto.push(res['2core'].eps / res['2core-w1'].eps);
  }
  const summary = Object.fromEntries(
    VARIANTS.map((v) => [
      v.key,
      {
        eps: median(rows[v.key].map((r) => r.eps)),
        cpuUsPerEvent: median(rows[v.key].map((r) => r.cpuUsPerEvent)),
        peakRssMiB: median(rows[v.key].map((r) => r.peakRssMiB)),
      },
    ]),
  );
  return {
    method,
    params: { ...o, cores: availableParallelism() },
    rows,
    summary,
    ratios: { twoVsOne: median(ratios.twoVsOne), w1VsAuto: median(ratios.w1VsAuto) },
    runRatios: ratios,
  };
}

const table = (r) => [
  ['variant', 'workers', 'events/s', 'CPU µs/event', 'peak RSS MiB'],
  ...VARIANTS.map((v) => {
    const s = r.summary[v.key];
    return [v.name, String(v.workers === 'auto' ? `auto = ${autoFor(v.cpus)}` : v.workers), fmtNum(s.eps), s.cpuUsPerEvent.toFixed(1), s.peakRssMiB.toFixed(0)];
  }),
];

const ratioLines = (r) => [
  `2 cores / 1 core (workers auto): ${r.ratios.twoVsOne.toFixed(2)}x (in-run: ${r.runRatios.twoVsOne.map((x) => x.toFixed(2)).join(', ')}); goal >= 1.8x: ${r.ratios.twoVsOne >= 1.8 ? 'met' : 'NOT met'}`,
  `2 cores, workers auto / workers 1: ${r.ratios.w1VsAuto.toFixed(2)}x (in-run: ${r.runRatios.w1VsAuto.map((x) => x.toFixed(2)).join(', ')})`,
];

export function printScaling(r, log = console.log) {
  for (const l of textTable(table(r)).split('\n')) log(`  ${l}`);
  for (const l of ratioLines(r)) log(`  ${l}`);
}

export const scalingMarkdown = (r) => [markdownTable(table(r)), '', ...ratioLines(r).map((l) => `- ${l}`)].join('\n');

export async function main() {
  const o = parseOptions(process.argv.slice(2));
  if (o.help) {
    console.log(USAGE);
    return 0;
  }
  console.log('core scaling: sealog pinned to 1 and 2 cores, front.workers');
  console.log(`  machine  ${machineLine(machine())}`);
  printScaling(await runScaling(o));
  console.log(`  load avg at the end: ${loadavg()}`);
  return 0;
}

if (isMain(import.meta.url)) await runMain(main);
