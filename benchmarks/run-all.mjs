#!/usr/bin/env node
// `npm run bench`: installs what the benchmarks need from Debian
// (setup-peers.sh), runs every benchmark, and writes
//   results/latest.json   every parameter, machine fact, per-run figure and summary
//   results/latest.md     the tables, each with its method
//   results/chart.svg     throughput, latency and the goals, for a person (and
//                         chart.png when rsvg-convert is installed)
//
// usage: node benchmarks/run-all.mjs [--events N] [--runs R] [--clients C] [--seed S]
//          [--quick] [--no-install] [--out DIR] [--only a,b]
// Sections: throughput, verify, latency, producer, overload, profile, scaling.
// Exit 0 when every sealog measurement completed and passed its checks (goals
// missed are reported, not failed: nothing here is a timed test).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { renderChart } from './lib/chart.mjs';
import { makeBuffer } from './lib/events.mjs';
import { machine, machineLine } from './lib/machine.mjs';
import { COMMON_USAGE, parseOptions } from './lib/options.mjs';
import { findPeer } from './lib/peers.mjs';
import { ROOT, removeTempDir, runMain } from './lib/proc.mjs';
import { fmtNum, markdownTable, textTable } from './lib/stats.mjs';
import { latencyMarkdown, latencyOptions, pLabel, PERCENTILES, printLatency, runLatency } from './latency.mjs';
import { overloadMarkdown, printOverload, runOverload } from './overload.mjs';
import { hasClientModes, printProducer, producerMarkdown, runProducerOverhead } from './producer-overhead.mjs';
import { printProfile, profileMarkdown, runProfile } from './profile.mjs';
import { printScaling, runScaling, scalingMarkdown } from './scaling.mjs';
import { printThroughput, runThroughput, throughputMarkdown } from './throughput.mjs';
import { printVerify, runVerifySpeed, verifyMarkdown } from './verify-speed.mjs';

const SECTIONS = ['throughput', 'verify', 'latency', 'producer', 'overload', 'profile', 'scaling'];
const USAGE = `usage: node benchmarks/run-all.mjs [options]   (npm run bench -- [options])
${COMMON_USAGE}
  --no-install  do not run benchmarks/setup-peers.sh (peers not installed are skipped)
  --out DIR     where latest.json, latest.md and chart.svg go (default benchmarks/results;
                --quick: benchmarks/results/quick, so a smoke run never replaces a full one)
  --only a,b    run only these sections (${SECTIONS.join(', ')})
  --render F    measure nothing: rewrite latest.md and the chart in --out from results file F`;

function setupPeers(log) {
  log('setup: benchmarks/setup-peers.sh (Debian packages: lz4, librsvg2-bin, rsyslog, syslog-ng-core)');
  const r = spawnSync('bash', [join(ROOT, 'benchmarks', 'setup-peers.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
  for (const l of `${r.stdout ?? ''}${r.stderr ?? ''}`
    .split('\n')
    .filter((x) => x.trim() && !/debconf|^\(Reading|^Selecting|^Preparing|^Unpacking|^Setting up|^Processing/.test(x)))
    log('  ' + l);
  if (r.status !== 0) log(`  setup-peers.sh exited ${r.status ?? r.signal}: continuing; missing peers are skipped`);
}

/** The goals of the issue, judged on in-run ratios where there is a peer to compare with. */
function goals(res) {
  const out = [];
  const t = res.throughput;
  const ratio = (k) => t?.ratios?.[k];
  const fx = (r) => (r.min === r.max ? `${r.median.toFixed(2)}x` : `${r.median.toFixed(2)}x (${r.min.toFixed(2)}-${r.max.toFixed(2)})`);
  const range = (s, f) => (s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min)}-${f(s.max)})`);
  for (const [key, label, goal] of [
    ['sealog-batch/rsyslog-sync-1m', 'throughput, fsync per batch ÷ rsyslog sync="on" (1 MiB buffer)', 1],
    ['sealog-batch/rsyslog-sync', 'throughput, fsync per batch ÷ rsyslog sync="on" (default buffer)', 1],
    ['sealog-batch/syslog-ng-fsync', 'throughput, fsync per batch ÷ syslog-ng fsync(yes)', 2],
  ]) {
    const r = ratio(key);
    if (r) out.push({ key, label, measured: fx(r), target: `≥ ${goal}x`, met: r.median >= goal });
    else if (t) out.push({ key, label, measured: 'peer not run', target: `≥ ${goal}x`, met: undefined });
  }
  const sb = t?.summary?.['sealog-batch']?.eventsPerSec;
  if (sb)
    out.push({
      key: 'sealog-abs',
      label: "throughput, fsync per batch, vs the issue's rsyslog sync figure",
      measured: `${fmtNum(sb.median)} events/s`,
      target: '≥ 220,000 events/s (issue)',
      met: sb.median >= 220_000,
    });
  const l = res.latency?.summary?.[10000]?.p99;
  if (l)
    out.push({
      key: 'p99-10k',
      label: 'p99 ingest → ack at 10k events/s, fsync per batch',
      measured: `${range(l, (x) => (x >= 100 ? fmtNum(x) : x.toFixed(1)))} ms`,
      target: '< 10 ms',
      met: l.median < 10,
    });
  const p = res.producer?.summary;
  if (p && hasClientModes(res.producer)) {
    const po = (m) =>
      `${m.wallOverheadPct.toFixed(1)}% wall (median round ${m.wallPerRound.median.toFixed(1)}%), ${m.mainCpuOverheadPct.toFixed(1)}% main-thread CPU`;
    out.push({
      key: 'producer',
      label: 'producer overhead, sealog/client',
      measured: po(p.sealog),
      target: '< 1% (old design: < 5%)',
      met: p.sealog.wallOverheadPct < 1,
    });
    out.push({
      key: 'producer-raw',
      label: 'producer overhead, raw socket sink',
      measured: po(p['sealog-raw']),
      target: '< 1%',
      met: p['sealog-raw'].wallOverheadPct < 1,
    });
    out.push({
      key: 'producer-floor',
      label: 'producer overhead, JSON.stringify alone (floor)',
      measured: po(p.stringify),
      target: 'reported',
      met: undefined,
    });
  }
  const sc = res.scaling?.ratios?.twoVsOne;
  if (sc)
    out.push({ key: 'scaling', label: 'events/s, daemon on 2 cores ÷ on 1 core (taskset)', measured: `${sc.toFixed(2)}x`, target: '≥ 1.8x', met: sc >= 1.8 });
  const v = res.verify?.summary?.verifyVsSha256;
  if (v) out.push({ key: 'verify', label: 'sealog verify MB/s ÷ sha256sum MB/s', measured: fx(v), target: '≥ 0.5x', met: v.median >= 0.5 });
  const o = res.overload?.summary?.['sealog-batch']?.peakRssMiB;
  if (o)
    out.push({
      key: 'overload',
      label: `peak RSS, ${res.overload.params.clients} clients flat out`,
      measured: `${range(o, (x) => fmtNum(x))} MiB`,
      target: 'reported (no figure in the issue)',
      met: undefined,
    });
  return out;
}

const goalRows = (gs) => [
  ['goal', 'measured', 'target', 'met'],
  ...gs.map((g) => [g.label, g.measured, g.target, g.met === undefined ? '-' : g.met ? 'yes' : 'NO']),
];

function chartSpec(res, gs) {
  const t = res.throughput;
  const m = res.machine;
  const spec = {
    title: `sealog benchmarks${res.params.quick ? ' (quick smoke run: sizes too small to mean anything)' : ''}`,
    subtitle: `${res.date.slice(0, 16).replace('T', ' ')} UTC · ${m.cores} cores ${m.cpuModel}, kernel ${m.kernel}, node ${m.node}, ${m.tmpFs} · load avg ${m.loadavg.join(' ')} at start`,
    throughput: {
      title: 'Throughput: socket in → file on disk',
      subtitle: t
        ? `${fmtNum(t.params.events)} seeded events (${(t.params.inputBytes / 1e6).toFixed(0)} MB) per run, ${t.params.runs} run${t.params.runs === 1 ? '' : 's'} interleaved, ${t.params.clients} clients; bar = median, whiskers = min–max`
        : 'not run',
      rows: t
        ? t.systems.map((s) => {
            const e = t.summary[s.key]?.eventsPerSec;
            return {
              name: s.name,
              kind: s.kind,
              reference: s.reference,
              skipped: !s.available || !e,
              median: e?.median,
              min: e?.min,
              max: e?.max,
              note: s.fsync.startsWith('per') ? 'fsync' : '',
            };
          })
        : [],
    },
    goals: gs
      .filter((g) => g.key !== 'sealog-batch/rsyslog-sync')
      .map((g) => ({ ...g, label: g.label.replace('throughput, fsync per batch', 'sealog fsync per batch') })),
    footer: [
      `Every figure's method (events, bytes, runs, fsync setting, machine) is in latest.md and latest.json beside this chart. Peers do no sealing.`,
      `Reproduce: npm run bench${res.params.quick ? ' -- --quick' : ''}   ·   sealog ${res.sealogVersion}, ${res.peers.map((p) => (p.ok ? p.version : `${p.name}: ${p.reason}`)).join(', ')}`,
    ],
  };
  if (res.latency) {
    spec.latency = {
      title: 'sealog ingest → ack latency',
      subtitle: `fsync per batch, linger ${res.latency.params.batch.linger_ms} ms; ${res.latency.params.seconds} s per load, ${res.latency.params.runs} run${res.latency.params.runs === 1 ? '' : 's'}; median, whiskers min–max`,
      series: res.latency.params.loads.map((rate) => ({
        // Past capacity the figures are queueing, not batching: say so.
        label: `${fmtNum(rate)} events/s${res.latency.summary[rate].achievedPerSec?.median < 0.95 * rate ? ' (over capacity)' : ''}`,
        points: PERCENTILES.map((p) => ({ p: pLabel(p), ...res.latency.summary[rate][pLabel(p)] })).filter((x) => x.median !== undefined),
      })),
      target: { ms: 10, label: 'goal: p99 < 10 ms at 10k events/s' },
    };
  }
  return spec;
}

function markdown(res, gs, chartFiles) {
  const block = (lines) => ['```', ...lines, '```'].join('\n');
  const s = [
    `# sealog benchmark results${res.params.quick ? ' (quick smoke run)' : ''}`,
    '',
    `Written by \`npm run bench${res.params.quick ? ' -- --quick' : ''}\` (\`benchmarks/run-all.mjs\`) on ${res.date}; every figure below states its method.`,
    res.params.quick ? '\n**A smoke run: its sizes are far too small for the figures to mean anything.**\n' : '',
    `- machine: ${machineLine(res.machine)}`,
    `- disk: fsync of a 2 KB write on ${res.machine.tmpdir}: ${res.fsyncProbe}`,
    `- sealog ${res.sealogVersion}; peers: ${res.peers.map((p) => (p.ok ? `${p.version}, ${p.where}` : `${p.name} skipped (${p.reason})`)).join('; ')}`,
    `- total time ${(res.totalSec / 60).toFixed(1)} min`,
    '',
    ...chartFiles.map((f) => `![sealog benchmarks](${f})`),
    '',
    '## Goals',
    '',
    markdownTable(goalRows(gs)),
    '',
  ];
  const sec = (title, r, body) => (r ? [`## ${title}`, '', block(r.method), '', body(r), ''] : []);
  s.push(
    ...sec('1. Throughput, socket in → file on disk', res.throughput, throughputMarkdown),
    ...sec('2. Latency, ingest → ack', res.latency, latencyMarkdown),
    ...sec('3. Producer overhead', res.producer, producerMarkdown),
    ...sec('4. Verify speed', res.verify, verifyMarkdown),
    ...sec('5. Memory under overload', res.overload, overloadMarkdown),
    ...sec("6. Where sealog's time goes", res.profile, profileMarkdown),
    ...sec('7. Core scaling (taskset, front.workers)', res.scaling, scalingMarkdown),
  );
  for (const e of res.errors) s.push(`**${e.section} failed:** ${e.error}`, '');
  return s.join('\n');
}

/** latest.json, latest.md, chart.svg (and chart.png with rsvg-convert) in outDir; prints the goals. */
function writeOutputs(res, gs, outDir, log) {
  mkdirSync(outDir, { recursive: true });
  const svgFile = join(outDir, 'chart.svg');
  writeFileSync(svgFile, renderChart(chartSpec(res, gs)));
  const chartFiles = ['chart.svg'];
  const png = spawnSync('rsvg-convert', ['-b', 'white', '-o', join(outDir, 'chart.png'), svgFile], { encoding: 'utf8' });
  if (png.status === 0) chartFiles.push('chart.png');
  writeFileSync(join(outDir, 'latest.md'), markdown(res, gs, ['chart.svg']));
  writeFileSync(join(outDir, 'latest.json'), JSON.stringify(res, null, 2) + '\n');
  log('Goals');
  log(textTable(goalRows(gs)));
  const rel = (f) => relative(process.cwd(), join(outDir, f)) || f;
  log(`\nwritten: ${['latest.json', 'latest.md', ...chartFiles].map(rel).join(', ')} (${(res.totalSec / 60).toFixed(1)} min)`);
}

function fsyncProbe(dir) {
  // Fsync latency of this disk, for reading the latency figures.
  const r = spawnSync(
    process.execPath,
    [
      '-e',
      `
    const fs = require('node:fs'); const f = require('node:path').join(${JSON.stringify(dir)}, 'fsync-probe-' + process.pid);
    const fd = fs.openSync(f, 'w'); const b = Buffer.alloc(2000, 65); const xs = [];
    for (let i = 0; i < 300; i++) { const t = performance.now(); fs.writeSync(fd, b); fs.fsyncSync(fd); xs.push(performance.now() - t); }
    fs.closeSync(fd); fs.unlinkSync(f); xs.sort((a, b) => a - b);
    const q = (p) => xs[Math.ceil(p / 100 * xs.length) - 1].toFixed(2);
    console.log('p50 ' + q(50) + ' ms, p99 ' + q(99) + ' ms, max ' + xs.at(-1).toFixed(2) + ' ms (300 writes)');`,
    ],
    { encoding: 'utf8' },
  );
  return r.stdout.trim() || 'n/a';
}

async function main() {
  const o = parseOptions(process.argv.slice(2), {
    'no-install': { type: 'boolean', default: false },
    out: { type: 'string' },
    only: { type: 'string' },
    render: { type: 'string' },
  });
  if (o.help) {
    console.log(USAGE);
    return 0;
  }
  const only = o.only ? o.only.split(',') : SECTIONS;
  const bad = only.filter((x) => !SECTIONS.includes(x));
  if (bad.length) throw new Error(`unknown section(s): ${bad.join(', ')} (sections: ${SECTIONS.join(', ')})`);
  const outDir = resolve(o.out ?? join(ROOT, 'benchmarks', 'results', ...(o.quick ? ['quick'] : [])));
  const log = (s) => console.log(s);
  if (o.render) {
    // Re-render latest.md and the chart from a results file, measuring nothing.
    const res = JSON.parse(readFileSync(o.render, 'utf8'));
    res.goals = goals(res);
    writeOutputs(res, res.goals, outDir, log);
    return 0;
  }
  const t0 = performance.now();

  if (!o['no-install']) setupPeers(log);
  if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) throw new Error('sealog is not built: run npx tsc -p . (npm run bench does)');

  const env = machine();
  const { version: sealogVersion } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const peers = ['syslog-ng', 'rsyslog'].map((name) => ({ name, ...findPeer(name) }));
  const res = {
    date: new Date().toISOString(),
    command: `node benchmarks/run-all.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    params: { events: o.events, runs: o.runs, clients: o.clients, seed: o.seed, quick: o.quick, sections: only },
    machine: env,
    fsyncProbe: fsyncProbe(env.tmpdir),
    sealogVersion,
    peers: peers.map(({ name, ok, version, where, reason }) => ({ name, ok, version, where, reason })),
    errors: [],
  };
  log(`sealog benchmarks: ${only.join(', ')}${o.quick ? ' (quick smoke run)' : ''}`);
  log(`  machine   ${machineLine(env)}`);
  log(`  disk      fsync of a 2 KB write: ${res.fsyncProbe}`);
  for (const p of peers) log(`  peer      ${p.name}: ${p.ok ? `${p.version}, ${p.where}` : `skipped: ${p.reason}`}`);

  const g0 = performance.now();
  const input = makeBuffer(o.events, o.seed);
  log(
    `  input     ${fmtNum(o.events)} events, ${(input.length / 1e6).toFixed(1)} MB, generated in ${((performance.now() - g0) / 1000).toFixed(1)} s (seed ${o.seed})\n`,
  );

  const section = async (name, fn) => {
    if (!only.includes(name)) return undefined;
    try {
      const r = await fn();
      log('');
      return r;
    } catch (err) {
      log(`  ${name} FAILED: ${err.stack ?? err}\n`);
      res.errors.push({ section: name, error: String(err.message ?? err) });
      return undefined;
    }
  };

  let kept;
  res.throughput = await section('throughput', async () => {
    const r = await runThroughput(
      { ...o, verify: only.includes('verify') && !o.quick ? 'kept' : undefined },
      { input, log, keepSealogRun1: only.includes('verify') },
    );
    kept = r.keptDir && { dir: r.keptDir, dataDir: r.keptDataDir };
    delete r.keptDir;
    delete r.keptDataDir;
    printThroughput(r, log);
    return r;
  });
  try {
    res.verify = await section('verify', async () => {
      // sealog verify of 2M records takes over a minute: two runs in a full
      // run keep the whole suite near 20 minutes (they differ by ~3%).
      const r = await runVerifySpeed({ ...o, runs: o.quick ? o.runs : Math.min(o.runs, 2) }, { dataDir: kept?.dataDir, log });
      printVerify(r, log);
      return r;
    });
  } finally {
    if (kept) removeTempDir(kept.dir);
  }
  // Run 1's fsync-per-batch segments were verified in section 4, not in section 1.
  if (res.throughput && res.verify && kept) {
    const ok = res.verify.summary['sealog-verify'].allChecksOk;
    const r1 = res.throughput.runs['sealog-batch']?.find((r) => r.run === 1);
    if (r1) {
      r1.verified = ok;
      if (!ok && r1.check === 'ok') r1.check = 'FAIL: sealog verify failed in section 4';
    }
  }
  res.latency = await section('latency', async () => {
    const r = await runLatency(latencyOptions(o), { input, log });
    printLatency(r, log);
    return r;
  });
  res.producer = await section('producer', async () => {
    const r = await runProducerOverhead(o, { log });
    printProducer(r, log);
    return r;
  });
  res.overload = await section('overload', async () => {
    const r = await runOverload(o, { input, log });
    printOverload(r, log);
    return r;
  });
  res.profile = await section('profile', async () => {
    const r = await runProfile(o, { input, log });
    printProfile(r, log);
    return r;
  });
  res.scaling = await section('scaling', async () => {
    const r = await runScaling(o, { input, log });
    printScaling(r, log);
    return r;
  });
  res.totalSec = (performance.now() - t0) / 1000;

  const gs = goals(res);
  res.goals = gs;
  writeOutputs(res, gs, outDir, log);

  // Exit status: every sealog measurement ran and passed its checks.
  const sealogOk = [
    ...(res.throughput ? ['sealog-batch', 'sealog-never'].filter((k) => res.throughput.summary[k]).map((k) => res.throughput.summary[k].allChecksOk) : []),
    ...(res.verify ? [res.verify.summary['sealog-verify'].allChecksOk] : []),
    ...(res.latency ? Object.values(res.latency.summary).map((s) => s.allChecksOk) : []),
    ...(res.producer ? [res.producer.summary.check === 'ok'] : []),
    ...(res.overload ? [res.overload.summary['sealog-batch'].allChecksOk] : []),
    ...(res.profile ? [res.profile.run.check === 'ok'] : []),
  ];
  return res.errors.length === 0 && sealogOk.every(Boolean) ? 0 : 1;
}

await runMain(main);
