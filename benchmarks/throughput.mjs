#!/usr/bin/env node
// 1. Throughput, socket in -> file on disk: sealog (fsync per batch, fsync off)
// against syslog-ng and rsyslog doing the plain socket-to-file job, and the
// physical limits (a Node socket-to-file copier, the same copier with a
// JSON.parse of every line, and cat). Systems run interleaved within each run;
// figures are medians over runs and in-run ratios.
//
// usage: node benchmarks/throughput.mjs [--events N] [--runs R] [--clients C] [--seed S] [--quick] [--systems a,b]
// Needs a built daemon (npx tsc -p .). See benchmarks/README.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeBuffer } from './lib/events.mjs';
import { isMain, machine, machineLine } from './lib/machine.mjs';
import { COMMON_USAGE, parseOptions } from './lib/options.mjs';
import { PEER_VARIANTS, findPeer } from './lib/peers.mjs';
import { ROOT, makeTempDir, removeTempDir, runMain, splitLines } from './lib/proc.mjs';
import { fmtNum, fmtRatio, fmtStat, markdownTable, stat, textTable } from './lib/stats.mjs';
import { SEALOG_BATCH, runCat, runCopier, runPeer, runSealog, runSealogSpool } from './lib/systems.mjs';

/**
 * Every system of the table. kind: sealog | peer | limit. fsync: when the
 * output is made durable. reference: the figure for it (events/s,
 * measured on a 2-core machine of this kind), where it gives one.
 */
export const SYSTEMS = [
  {
    key: 'sealog-batch',
    name: 'sealog, fsync per batch',
    kind: 'sealog',
    fsync: 'per batch (acked after fsync)',
    run: (ctx, o) => runSealog(ctx, { fsync: 'batch', ...o }),
  },
  {
    key: 'sealog-never',
    name: 'sealog, fsync off',
    kind: 'sealog',
    fsync: 'never (acked after write)',
    run: (ctx, o) => runSealog(ctx, { fsync: 'never', ...o }),
  },
  {
    key: 'sealog-rules-off',
    name: 'sealog, redaction rules off',
    kind: 'sealog',
    fsync: 'per batch (acked after fsync)',
    run: (ctx, o) => runSealog(ctx, { fsync: 'batch', ...o, config: { redact: { enabled: false } } }),
  },
  { key: 'sealog-spool', name: 'sealog, spool files in', kind: 'sealog', fsync: 'per batch (file done after fsync)', run: (ctx) => runSealogSpool(ctx) },
  ...PEER_VARIANTS.map((v) => ({ ...v, kind: 'peer', run: (ctx) => runPeer(ctx, v) })),
  { key: 'copier', name: 'Node copier, splits lines', kind: 'limit', fsync: 'once, at the end', reference: 1_300_000, run: (ctx) => runCopier(ctx) },
  {
    key: 'copier-parse',
    name: 'Node copier + JSON.parse',
    kind: 'limit',
    fsync: 'once, at the end',
    reference: 320_000,
    run: (ctx) => runCopier(ctx, { parse: true }),
  },
  { key: 'cat', name: 'cat file > file', kind: 'limit', fsync: 'once, at the end', run: (ctx) => runCat(ctx) },
];

/** In-run ratios the goals are judged by: [numerator, denominator, goal (at least)]. */
export const GOAL_RATIOS = [
  [
    'sealog-batch',
    'sealog-rules-off',
    0.75,
    'sealog with the default secret/PII rules keeps >= 75% of its throughput without them (the rules cost at most 25%)',
  ],
  ['sealog-batch', 'rsyslog-sync-1m', 1, 'sealog (all stages, fsync per batch) >= rsyslog sync="on" (1 MiB buffer: fsync per batch)'],
  ['sealog-batch', 'rsyslog-sync', 1, 'sealog (all stages, fsync per batch) >= rsyslog sync="on" (default 4 KiB buffer)'],
  ['sealog-batch', 'syslog-ng-fsync', 2, 'sealog (all stages, fsync per batch) >= 2x syslog-ng fsync(yes), on the way'],
];

export const THROUGHPUT_METHOD = (p, env) => [
  `input     ${fmtNum(p.events)} seeded events (seed ${p.seed}, benchmarks/lib/events.mjs), ${(p.inputBytes / 1e6).toFixed(1)} MB of NDJSON, mean ${(p.inputBytes / p.events).toFixed(0)} B/event`,
  `runs      ${p.runs}; within a run every system runs once, in an order rotated from run to run; ${p.clients} concurrent client connections, 64 KiB writes`,
  `timed     first byte sent -> all data in the output: sealog = last commit ack received (fsync per batch: durable); peers = output file holds every input byte;`,
  `          copier = exit after flush + fsync; cat = exit + fsync. Connection setup and server start-up are not timed.`,
  `server    CPU = utime+stime of the server process (all threads) from /proc over the timed interval; peak RSS = VmHWM over the process life`,
  `sealog    acks on; batch max_records ${SEALOG_BATCH.max_records}, max_bytes ${SEALOG_BATCH.max_bytes}, linger_ms ${SEALOG_BATCH.linger_ms}; log.level warn;`,
  `          every run checked by its acks (N committed, 0 rejected) and an lz4 -dc record count; sealog verify: ${p.verify}`,
  `peers     no sealing; flow control on (no drops); each in the foreground with its own config, pid file and socket; output counted and compared line by line with the input`,
  `machine   ${machineLine(env)}`,
];

/**
 * Runs the throughput benchmark. o: { events, runs, clients, seed, systems?,
 * quick }. input: a prebuilt buffer (else generated). keepSealogRun1: keep run
 * 1's sealog-batch data dir for the verify-speed benchmark (returned as
 * keptDataDir; the caller removes it). Returns a JSON-able result.
 */
export async function runThroughput(o, { input, log = console.log, keepSealogRun1 = false } = {}) {
  const g0 = performance.now();
  input ??= makeBuffer(o.events, o.seed);
  const genSec = (performance.now() - g0) / 1000;
  const N = o.events;
  const parts = splitLines(input, o.clients);
  const inputDir = makeTempDir('sealog-input-');
  const inputFile = join(inputDir, 'input.ndjson');
  writeFileSync(inputFile, input);
  const ctx = { N, input, parts, inputFile };
  const env = machine();
  const verifyPolicy = o.verify ?? (o.quick ? 'all' : 'first');
  const params = {
    events: N,
    runs: o.runs,
    clients: o.clients,
    seed: o.seed,
    inputBytes: input.length,
    generateSec: +genSec.toFixed(1),
    verify: { all: 'every run', first: 'run 1 of each sealog system', none: 'not here', kept: "run 1's fsync-per-batch segments, in section 4 (verify speed)" }[
      verifyPolicy
    ],
  };

  const wanted = o.systems ? new Set(o.systems) : undefined;
  const systems = SYSTEMS.filter((s) => !wanted || wanted.has(s.key)).map((s) => {
    const { run, ...desc } = s;
    if (s.kind !== 'peer') return { ...desc, available: true };
    const p = findPeer(s.peer);
    return { ...desc, available: p.ok, version: p.version, where: p.where, skipReason: p.ok ? undefined : `${s.peer} ${p.reason}` };
  });
  const runners = Object.fromEntries(SYSTEMS.map((s) => [s.key, s.run]));

  log(['1. throughput, socket in -> file on disk', ...THROUGHPUT_METHOD(params, env).map((l) => '  ' + l)].join('\n'));
  for (const s of systems.filter((x) => !x.available)) log(`  skipped   ${s.name}: ${s.skipReason}`);
  const active = systems.filter((s) => s.available);
  const results = Object.fromEntries(active.map((s) => [s.key, []]));
  let keptDataDir;
  let keptDir;
  try {
    for (let run = 1; run <= o.runs; run++) {
      // Rotate the order so no system always follows the same neighbour.
      const shift = Math.floor(((run - 1) * active.length) / o.runs);
      const order = [...active.slice(shift), ...active.slice(0, shift)];
      for (const sys of order) {
        let r;
        try {
          const keep = keepSealogRun1 && run === 1 && sys.key === 'sealog-batch';
          // `sealog verify` (o.verify): 'first' = run 1 of each sealog system,
          // 'all', or 'none' (run-all verifies run 1's kept segments in section
          // 4 instead). Every run is checked by acks + lz4 record count.
          const verify = verifyPolicy === 'all' || (verifyPolicy === 'first' && run === 1);
          r = await runners[sys.key](ctx, sys.kind === 'sealog' ? { verify, keep } : undefined);
          if (r.dataDir) {
            keptDataDir = r.dataDir;
            keptDir = r.dir;
          }
        } catch (err) {
          r = { error: err.message, check: `ERROR: ${err.message.split('\n')[0]}` };
        }
        r.run = run;
        if (!r.error) {
          r.eventsPerSec = N / r.wallSec;
          r.mbPerSec = input.length / 1e6 / r.wallSec;
        }
        results[sys.key].push(r);
        const detail = r.error
          ? r.check
          : `${fmtNum(r.eventsPerSec)} events/s, wall ${r.wallSec.toFixed(2)} s, cpu ${r.cpuSec?.toFixed(2)} s, rss ${fmtNum(r.peakRssKiB / 1024)} MiB, lost ${r.lost}, ${r.check}`;
        log(`  run ${run}/${o.runs}  ${sys.name.padEnd(31)} ${detail}`);
      }
    }
  } finally {
    removeTempDir(inputDir);
  }

  const summary = {};
  for (const s of active) summary[s.key] = summarize(results[s.key], results.copier);
  const ratios = {};
  for (const [a, b, goal, what] of GOAL_RATIOS) {
    if (results[a] && results[b]) ratios[`${a}/${b}`] = { what, goal, ...perRunRatio(results[a], results[b]) };
  }
  return {
    date: new Date().toISOString(),
    params,
    machine: env,
    method: THROUGHPUT_METHOD(params, env),
    systems,
    summary,
    ratios,
    runs: results,
    keptDataDir,
    keptDir,
  };
}

/** Per-run ratio of events/s (a / b in the same run), as a stat over runs where both succeeded. */
export function perRunRatio(as, bs) {
  const xs = [];
  for (const a of as) {
    const b = bs?.find((x) => x.run === a.run);
    if (a.eventsPerSec && b?.eventsPerSec) xs.push(a.eventsPerSec / b.eventsPerSec);
  }
  const s = stat(xs);
  return s ? { ...s, runs: xs } : undefined;
}

function summarize(runs, copierRuns) {
  const ok = runs.filter((r) => !r.error);
  return {
    runs: runs.length,
    failedRuns: runs.length - ok.length,
    eventsPerSec: stat(ok.map((r) => r.eventsPerSec)),
    mbPerSec: stat(ok.map((r) => r.mbPerSec)),
    wallSec: stat(ok.map((r) => r.wallSec)),
    cpuSec: stat(ok.map((r) => r.cpuSec)),
    peakRssMiB: stat(ok.map((r) => r.peakRssKiB / 1024)),
    storedMB: stat(ok.map((r) => r.storedBytes / 1e6)),
    lostMax: ok.length ? Math.max(...ok.map((r) => r.lost)) : undefined,
    extraMax: ok.length ? Math.max(...ok.map((r) => r.extra ?? 0)) : undefined,
    vsCopier: perRunRatio(ok, copierRuns),
    allChecksOk: ok.length === runs.length && ok.every((r) => r.check === 'ok'),
    problems: runs.filter((r) => r.check !== 'ok').map((r) => `run ${r.run}: ${r.check}`),
  };
}

const refText = (x) => (typeof x === 'number' ? `≈${x >= 1e6 ? (x / 1e6).toFixed(1) + 'M' : Math.round(x / 1e3) + 'k'}` : '');

/** The throughput table: rows for text and Markdown, one per system. */
export function throughputRows(res) {
  const rows = [['system', 'fsync', 'events/s', 'MB/s', 'vs copier', 'server CPU s', 'peak RSS MiB', 'on disk MB', 'lost', 'check', 'issue ref']];
  for (const s of res.systems) {
    if (!s.available) {
      rows.push([s.name, s.fsync, 'skipped', '', '', '', '', '', '', s.skipReason, refText(s.reference)]);
      continue;
    }
    const m = res.summary[s.key];
    rows.push([
      s.name,
      s.fsync,
      fmtStat(m.eventsPerSec, 0),
      fmtStat(m.mbPerSec, 1),
      s.key === 'copier' ? '1.00x' : fmtRatio(m.vsCopier),
      fmtStat(m.cpuSec, 2),
      fmtStat(m.peakRssMiB, 0),
      m.storedMB ? fmtNum(m.storedMB.median, 1) : 'n/a',
      m.lostMax === undefined ? 'n/a' : String(m.lostMax),
      m.allChecksOk ? 'ok' : `FAIL in ${m.problems.length} run(s)`,
      refText(s.reference),
    ]);
  }
  return rows;
}

export const THROUGHPUT_NOTES = [
  'median (min-max) over runs; MB = 10^6 bytes of NDJSON input; vs copier = median of in-run ratios to the Node copier;',
  'lost = most input lines missing in any run (sealog: N - committed acks; others: compared line by line with the input);',
  'issue ref = the figure the issue gives for that job on a 2-core machine of this kind (not measured here).',
];

export function ratioRows(res) {
  const rows = [['in-run ratio (events/s)', 'median (min-max)', 'goal', 'met']];
  const name = (k) => res.systems.find((s) => s.key === k)?.name ?? k;
  for (const [key, r] of Object.entries(res.ratios)) {
    const [a, b] = key.split('/');
    rows.push([`${name(a)} ÷ ${name(b)}`, fmtRatio(r), `≥ ${r.goal}x`, r.median >= r.goal ? 'yes' : 'NO']);
  }
  return rows;
}

export function printThroughput(res, log = console.log) {
  log('\n' + textTable(throughputRows(res)));
  log(THROUGHPUT_NOTES.join('\n'));
  if (Object.keys(res.ratios).length) log('\n' + textTable(ratioRows(res)));
  for (const s of res.systems) for (const p of res.summary[s.key]?.problems ?? []) log(`  ${s.name} ${p}`);
}

export function throughputMarkdown(res) {
  const problems = res.systems.flatMap((s) => (res.summary[s.key]?.problems ?? []).map((p) => `- ${s.name}, ${p}`));
  return [
    markdownTable(throughputRows(res)),
    '',
    THROUGHPUT_NOTES.join('\n'),
    ...(Object.keys(res.ratios).length ? ['', markdownTable(ratioRows(res))] : []),
    ...(problems.length ? ['', 'Failed checks:', '', ...problems] : []),
  ].join('\n');
}

async function main() {
  const o = parseOptions(process.argv.slice(2), { systems: { type: 'string' } });
  if (o.help) {
    console.log(
      `usage: node benchmarks/throughput.mjs [options]\n${COMMON_USAGE}\n  --systems a,b keys of the systems to run (${SYSTEMS.map((s) => s.key).join(', ')})`,
    );
    return 0;
  }
  if (o.systems) {
    o.systems = o.systems.split(',');
    const bad = o.systems.filter((k) => !SYSTEMS.some((s) => s.key === k));
    if (bad.length) throw new Error(`unknown system(s): ${bad.join(', ')}`);
  }
  const res = await runThroughput(o);
  printThroughput(res);
  const outDir = join(ROOT, 'benchmarks', 'results');
  mkdirSync(outDir, { recursive: true });
  const outFile = join(outDir, 'throughput-latest.json');
  writeFileSync(outFile, JSON.stringify(res, null, 2) + '\n');
  console.log(`\nresults written to ${outFile}`);
  return Object.values(res.summary).every((m) => m.allChecksOk) ? 0 : 1;
}

if (isMain(import.meta.url)) await runMain(main);
