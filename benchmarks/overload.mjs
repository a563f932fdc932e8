#!/usr/bin/env node
// 5. Memory under overload: 16 clients sending flat out for 60 s (the service
// issue's overload case), acks on, fsync per batch. Reports sealog's peak RSS,
// the throughput it holds, that nothing was lost, and the Node copier under the
// same load for scale.
//
// usage: node benchmarks/overload.mjs [--seconds S] [--events N] [--runs R] [--quick]
import { join } from 'node:path';
import { makeBuffer } from './lib/events.mjs';
import { isMain, machine, machineLine } from './lib/machine.mjs';
import { COMMON_USAGE, parseOptions } from './lib/options.mjs';
import { runMain, countNewlines, headLines, makeTempDir, removeTempDir, splitLines } from './lib/proc.mjs';
import { fmtNum, fmtRatio, fmtStat, markdownTable, stat, textTable } from './lib/stats.mjs';
import { writeFileSync } from 'node:fs';
import { SEALOG_BATCH, runCopier, runSealog } from './lib/systems.mjs';
import { perRunRatio } from './throughput.mjs';

export const OVERLOAD_CLIENTS = 16;
const SYSTEMS = [
  { key: 'sealog-batch', name: 'sealog, fsync per batch', run: (ctx) => runSealog(ctx, { fsync: 'batch', verify: false }) },
  { key: 'copier', name: 'Node copier, splits lines', run: (ctx) => runCopier(ctx) },
];

export const OVERLOAD_METHOD = (p, env) => [
  `load      ${p.clients} client connections at once, each sending flat out (as fast as the server reads) for ${p.seconds} s or until its share of ${fmtNum(p.events)} seeded events (${(p.inputBytes / 1e6).toFixed(1)} MB) runs out`,
  `sealog    acks on, fsync per batch, batch max_records ${SEALOG_BATCH.max_records}, max_bytes ${SEALOG_BATCH.max_bytes}, linger_ms ${SEALOG_BATCH.linger_ms}; checked by acks and lz4 -dc record count`,
  `memory    peak RSS = VmHWM of the server process (and the highest VmRSS polled every 20 ms) over its life`,
  `runs      ${p.runs}, sealog and the copier interleaved`,
  `machine   ${machineLine(env)}`,
];

/** o: { events (overload size), runs, seed, quick }. input: a buffer to take the events from. */
export async function runOverload(o, { input, log = console.log } = {}) {
  const events = o.overloadEvents ?? (o.quick ? 20_000 : 2_000_000);
  const seconds = o.seconds ?? (o.quick ? 3 : 60);
  input = input ? headLines(input, events) : makeBuffer(events, o.seed);
  const N = countNewlines(input);
  const dir = makeTempDir('sealog-overload-');
  const inputFile = join(dir, 'input.ndjson');
  writeFileSync(inputFile, input);
  const ctx = { N, input, parts: splitLines(input, OVERLOAD_CLIENTS), inputFile, seconds };
  const env = machine();
  const params = { clients: OVERLOAD_CLIENTS, seconds, events: N, inputBytes: input.length, runs: o.runs };
  log(['5. memory under overload', ...OVERLOAD_METHOD(params, env).map((l) => '  ' + l)].join('\n'));
  const runs = Object.fromEntries(SYSTEMS.map((s) => [s.key, []]));
  try {
    for (let run = 1; run <= o.runs; run++) {
      for (const s of run % 2 ? SYSTEMS : [...SYSTEMS].reverse()) {
        let r;
        try {
          r = await s.run(ctx);
          r.eventsPerSec = r.lines / r.wallSec;
        } catch (err) {
          r = { error: err.message, check: `ERROR: ${err.message.split('\n')[0]}` };
        }
        r.run = run;
        runs[s.key].push(r);
        log(
          `  run ${run}/${o.runs}  ${s.name.padEnd(26)} ${r.error ? r.check : `peak RSS ${fmtNum(r.peakRssKiB / 1024)} MiB, ${fmtNum(r.lines)} events in ${r.wallSec.toFixed(1)} s = ${fmtNum(r.eventsPerSec)} events/s, cpu ${r.cpuSec?.toFixed(2)} s, lost ${r.lost}, ${r.check}`}`,
        );
      }
    }
  } finally {
    removeTempDir(dir);
  }
  const summary = {};
  for (const s of SYSTEMS) {
    const ok = runs[s.key].filter((r) => !r.error);
    summary[s.key] = {
      peakRssMiB: stat(ok.map((r) => r.peakRssKiB / 1024)),
      eventsPerSec: stat(ok.map((r) => r.eventsPerSec)),
      cpuSec: stat(ok.map((r) => r.cpuSec)),
      lostMax: ok.length ? Math.max(...ok.map((r) => r.lost)) : undefined,
      vsCopier: s.key === 'copier' ? undefined : perRunRatio(ok, runs.copier),
      allChecksOk: ok.length === runs[s.key].length && ok.every((r) => r.check === 'ok'),
      problems: runs[s.key].filter((r) => r.check !== 'ok').map((r) => `run ${r.run}: ${r.check}`),
    };
  }
  return { date: new Date().toISOString(), params, machine: env, method: OVERLOAD_METHOD(params, env), summary, runs };
}

export function overloadRows(res) {
  const rows = [['system', 'clients', 'peak RSS MiB', 'events/s', 'vs copier', 'server CPU s', 'lost', 'check']];
  for (const s of SYSTEMS) {
    const m = res.summary[s.key];
    rows.push([
      s.name,
      String(res.params.clients),
      fmtStat(m.peakRssMiB, 0),
      fmtStat(m.eventsPerSec, 0),
      s.key === 'copier' ? '1.00x' : fmtRatio(m.vsCopier),
      fmtStat(m.cpuSec, 2),
      String(m.lostMax ?? 'n/a'),
      m.allChecksOk ? 'ok' : 'FAIL',
    ]);
  }
  return rows;
}

export const OVERLOAD_NOTES = ['median (min-max) over runs; peak RSS is the whole process (V8 heap, buffers, code).'];
export const overloadMarkdown = (res) => [markdownTable(overloadRows(res)), '', OVERLOAD_NOTES.join('\n')].join('\n');
export const printOverload = (res, log = console.log) => log('\n' + textTable(overloadRows(res)) + '\n' + OVERLOAD_NOTES.join('\n'));

if (isMain(import.meta.url)) {
  await runMain(async () => {
    const o = parseOptions(process.argv.slice(2), { seconds: { type: 'string' } });
    if (o.help)
      console.log(
        `usage: node benchmarks/overload.mjs [options]\n${COMMON_USAGE}\n  --seconds S   how long each client sends flat out (default 60; --quick 3)\n  (--events is the input here: default 2,000,000; --quick 20,000)`,
      );
    else {
      const res = await runOverload({
        ...o,
        seconds: o.seconds && Number(o.seconds),
        overloadEvents: process.argv.includes('--events') ? o.events : undefined,
      });
      printOverload(res);
      return Object.values(res.summary).every((m) => m.allChecksOk) ? 0 : 1;
    }
  });
}
