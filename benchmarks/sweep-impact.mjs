#!/usr/bin/env node
// Integrity sweep vs ingest: sealog's socket throughput (fsync per batch, acks)
// with no sweep, and with a full integrity sweep running the whole time
// (integrity.full_schedule and schedule every second: a tick that finds the
// previous sweep still running is skipped, so one sweep follows the other
// back to back, re-verifying every closed segment). The goal: the
// sweep keeps ingest at >= 80% of its throughput. Both variants run
// interleaved within each run; the ratio is the median of in-run ratios.
// It also reports the daemon's peak RSS (VmHWM: the whole process, its front
// workers and the sweep's worker thread included) in each variant; the issue's
// memory goal is < 256 MB with 16 clients flat out and a full sweep running
// (--clients 16).
//
// usage: node benchmarks/sweep-impact.mjs [--events N] [--runs R] [--clients C] [--seed S] [--quick]
// Needs a built daemon (npx tsc -p .).
import { readFileSync } from 'node:fs';
import { makeBuffer } from './lib/events.mjs';
import { isMain, machine, machineLine } from './lib/machine.mjs';
import { parseOptions } from './lib/options.mjs';
import { removeTempDir, runCommand, runMain, sampleProcess, splitLines, startSealog, stopProcess } from './lib/proc.mjs';
import { fmtNum, median } from './lib/stats.mjs';
import { SEALOG_BATCH, sendAll } from './lib/systems.mjs';

// Segments of 4 MiB so that many close during a run and the sweep has real work.
const BASE = { fsync: { mode: 'batch' }, batch: SEALOG_BATCH, segment: { max_bytes: 4 * 1024 * 1024 } };
const VARIANTS = [
  { key: 'off', name: 'no sweep', config: { ...BASE, integrity: { enabled: false } } },
  { key: 'on', name: 'full sweep back to back', config: { ...BASE, integrity: { enabled: true, schedule: '* * * * * *', full_schedule: '* * * * * *' } } },
];

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

async function runOnce(v, parts, N) {
  const d = await startSealog(v.config);
  const sampler = sampleProcess(d.child.pid);
  try {
    const { t0, replies } = await sendAll(d.socketPath, { parts }, true, sampler);
    const wallSec = (performance.now() - t0) / 1000;
    const s = sampler.snapshot(); // before the stop: its peak is ingest's and the sweep's, not the shutdown's
    const committed = replies.reduce((a, r) => a + r.committed, 0);
    const exit = await stopProcess(d.child, 120_000);
    if (exit.code !== 0) throw new Error(`sealog exited with ${exit.code ?? exit.signal}:\n${d.child.stderrText()}`);
    if (committed !== N) throw new Error(`${v.key}: ${committed} of ${N} committed`);
    // How many sweeps ran during the run: their sealed records.
    const sweeps = await runCommand('sh', ['-c', `cat "${d.dataDir}"/segments/*.seg.lz4 | lz4 -dc | grep -c '"type":"sealog.integrity.sweep"' || true`]);
    const damage = d.child.stderrText().includes('integrity sweep found damage');
    if (damage) throw new Error(`${v.key}: the sweep reported damage:\n${d.child.stderrText()}`);
    return { eps: N / wallSec, wallSec, sweeps: Number(sweeps.stdout.trim() || 0), cpuSec: s?.cpuSec, peakRssMiB: s ? s.hwmKiB / 1024 : NaN };
  } finally {
    sampler.stop();
    if (d.child.exitCode === null) await stopProcess(d.child, 5000).catch(() => {});
    removeTempDir(d.dir);
  }
}

export async function main() {
  const o = parseOptions(process.argv.slice(2));
  const input = makeBuffer(o.events, o.seed);
  const parts = splitLines(input, o.clients);
  const env = machine();
  console.log('sweep impact on ingest');
  console.log(
    `  method   ${fmtNum(o.events)} seeded events (${(input.length / 1e6).toFixed(1)} MB NDJSON), ${o.clients} clients with acks, fsync per batch, 4 MiB segments;`,
  );
  console.log(`           ${o.runs} run(s), each running both variants in an order that alternates; timed: first byte sent -> last commit ack.`);
  console.log(
    `           "on": integrity.schedule and full_schedule every second, so a full sweep (worker thread) re-verifies every closed segment back to back.`,
  );
  console.log(`           peak RSS: VmHWM of the daemon process (every thread: main, front workers, sweep worker) at the last ack.`);
  console.log(`  machine  ${machineLine(env)}`);
  const ratios = [];
  const rows = { off: [], on: [] };
  for (let run = 0; run < o.runs; run++) {
    const order = run % 2 ? [...VARIANTS].reverse() : VARIANTS;
    const res = {};
    for (const v of order) {
      res[v.key] = await runOnce(v, parts, o.events);
      rows[v.key].push(res[v.key]);
      console.log(
        `  run ${run + 1}  ${v.name.padEnd(24)} ${fmtNum(res[v.key].eps)} events/s  (${res[v.key].wallSec.toFixed(2)} s, ${res[v.key].sweeps} sweep(s) sealed)  peak RSS ${res[v.key].peakRssMiB.toFixed(0)} MiB  (load ${loadavg()})`,
      );
    }
    ratios.push(res.on.eps / res.off.eps);
  }
  const ratio = median(ratios);
  const peak = Math.max(...rows.on.map((r) => r.peakRssMiB));
  console.log(
    `  memory   peak RSS, no sweep: ${Math.max(...rows.off.map((r) => r.peakRssMiB)).toFixed(0)} MiB; with sweep: ${peak.toFixed(0)} MiB (${o.clients} clients); goal < 256 MB (244 MiB): ${peak * 1048576 < 256e6 ? 'met' : 'NOT met'}`,
  );
  console.log(`  median   no sweep ${fmtNum(median(rows.off.map((r) => r.eps)))} events/s, with sweep ${fmtNum(median(rows.on.map((r) => r.eps)))} events/s`);
  console.log(
    `  ratio    with sweep / without = ${ratio.toFixed(3)} (median of in-run ratios ${ratios.map((r) => r.toFixed(3)).join(', ')}); goal >= 0.80: ${ratio >= 0.8 ? 'met' : 'NOT met'}`,
  );
  return 0;
}

if (isMain(import.meta.url)) await runMain(main);
