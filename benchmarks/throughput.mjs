#!/usr/bin/env node
// Ingest throughput of sealog against the physical-limit baseline (a plain
// socket-to-file copier), end to end: first byte sent -> all data durable.
//
// usage: node benchmarks/throughput.mjs [--events N] [--runs R] [--clients C] [--seed S] [--quick]
// Needs a built daemon (npx tsc -p .). See benchmarks/README.md.
import { readdirSync, readFileSync, statSync, mkdirSync, writeFileSync, createReadStream } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { makeBuffer } from './lib/events.mjs';
import {
  ROOT, cleanupAll, connectUnix, countNewlines, removeTempDir, runSealogCli, sampleProcess,
  sendBuffer, splitLines, startCopier, startSealog, stopProcess,
} from './lib/proc.mjs';

const { values: opt } = parseArgs({
  options: {
    events: { type: 'string' },
    runs: { type: 'string' },
    clients: { type: 'string', default: '4' },
    seed: { type: 'string', default: '42' },
    quick: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (opt.help) {
  console.log('usage: node benchmarks/throughput.mjs [--events N] [--runs R] [--clients C] [--seed S] [--quick]');
  process.exit(0);
}
// --quick is a CI smoke run; explicit --events/--runs still win over it.
const N = Number(opt.events ?? (opt.quick ? 20_000 : 200_000));
const RUNS = Number(opt.runs ?? (opt.quick ? 1 : 3));
const CLIENTS = Number(opt.clients);
const SEED = Number(opt.seed);
for (const [k, v] of Object.entries({ events: N, runs: RUNS, clients: CLIENTS })) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer`);
}

// ---------------------------------------------------------------------------
// One measured run of each system. Each returns the same shape of result.

async function sendAll(socketPath, parts, acks, sampler) {
  // Connect every client before the clock starts: the timed interval begins
  // with the first byte written, not with connection setup.
  const socks = await Promise.all(parts.map(() => connectUnix(socketPath)));
  // Server CPU is counted from here, so process start-up (Node boot, module
  // loading, key generation) is not charged to ingest.
  const cpu0 = sampler.snapshot()?.cpuSec ?? 0;
  const t0 = performance.now();
  const replies = await Promise.all(parts.map((p, i) => sendBuffer(socks[i], p.buf, { lines: p.lines, acks })));
  return { t0, cpu0, replies };
}

async function runCopier(input, parts) {
  const srv = await startCopier();
  const sampler = sampleProcess(srv.child.pid);
  try {
    const { t0, cpu0 } = await sendAll(srv.socketPath, parts, false, sampler);
    // Clients are done; the copier flushes, fsyncs and exits on SIGTERM. Its
    // exit is the point where all data is durable.
    const exit = await stopProcess(srv.child);
    const t1 = performance.now();
    const stats = sampler.snapshot(); // last reading taken while it was alive
    if (exit.code !== 0) throw new Error(`baseline-copier exited with ${exit.code ?? exit.signal}: ${srv.child.stderrText()}`);
    const outBytes = statSync(srv.outFile).size;
    const outLines = await countFileLines(srv.outFile);
    return {
      wallSec: (t1 - t0) / 1000,
      cpuSec: stats && stats.cpuSec - cpu0,
      peakRssKiB: stats?.hwmKiB,
      stored: outLines,
      lost: N - outLines,
      storedBytes: outBytes,
      check: outLines === N && outBytes === input.length ? 'ok' : `FAIL: ${outLines} lines, ${outBytes} bytes in output`,
    };
  } finally {
    sampler.stop();
    if (srv.child.exitCode === null) await stopProcess(srv.child, 5000).catch(() => {});
    removeTempDir(srv.dir);
  }
}

async function runSealog(fsyncMode, parts) {
  const d = await startSealog({ fsync: { mode: fsyncMode } });
  const sampler = sampleProcess(d.child.pid);
  try {
    const { t0, cpu0, replies } = await sendAll(d.socketPath, parts, true, sampler);
    // All acks in: every line is committed (and, with fsync.mode batch, fsynced).
    const t1 = performance.now();
    const stats = sampler.snapshot();
    const committed = replies.reduce((a, r) => a + r.committed, 0);
    const rejected = replies.reduce((a, r) => a + r.rejected, 0);

    const s0 = performance.now();
    const exit = await stopProcess(d.child);
    const shutdownSec = (performance.now() - s0) / 1000;
    const problems = daemonProblems(d.child.stderrText());
    if (exit.code !== 0) throw new Error(`sealog exited with ${exit.code ?? exit.signal} after SIGTERM:\n${d.child.stderrText()}`);

    const v0 = performance.now();
    const ver = await runSealogCli(['verify', '--data', d.dataDir, '--key', join(d.dataDir, 'keys', 'signing.pub'), '--json']);
    const verifySec = (performance.now() - v0) / 1000;
    let verdict;
    try {
      verdict = JSON.parse(ver.stdout);
    } catch {
      throw new Error(`sealog verify (exit ${ver.code}) printed no JSON verdict:\n${ver.stdout}${ver.stderr}`);
    }
    const segDir = join(d.dataDir, 'segments');
    const storedBytes = readdirSync(segDir).filter((f) => f.endsWith('.seg.lz4')).reduce((a, f) => a + statSync(join(segDir, f)).size, 0);
    const failures = [];
    if (ver.code !== 0 || !verdict.ok) failures.push(`verify exit ${ver.code}: ${JSON.stringify(verdict.failure ?? verdict)}`);
    if (verdict.records !== N) failures.push(`verify counts ${verdict.records} records, expected ${N}`);
    if (committed !== N) failures.push(`acks committed ${committed} of ${N}`);
    if (rejected !== 0) failures.push(`${rejected} lines rejected`);
    if (problems.length) failures.push(`daemon logged ${problems.length} warn/error line(s), first: ${problems[0]}`);
    return {
      wallSec: (t1 - t0) / 1000,
      cpuSec: stats && stats.cpuSec - cpu0,
      peakRssKiB: stats?.hwmKiB,
      stored: verdict.records,
      lost: N - committed,
      storedBytes,
      shutdownSec,
      verifySec,
      segments: verdict.segments,
      readySignal: d.readySignal,
      check: failures.length ? `FAIL: ${failures.join('; ')}` : 'ok',
    };
  } finally {
    sampler.stop();
    if (d.child.exitCode === null) await stopProcess(d.child, 5000).catch(() => {});
    removeTempDir(d.dir);
  }
}

/** The daemon's stderr lines at pino level >= warn (40): none are expected in a clean run. */
function daemonProblems(stderr) {
  return stderr.split('\n').filter((l) => {
    try {
      return JSON.parse(l).level >= 40;
    } catch {
      return l.trim() !== ''; // anything unstructured on stderr is worth a look
    }
  });
}

async function countFileLines(file) {
  let n = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) n += countNewlines(chunk);
  return n;
}

// ---------------------------------------------------------------------------
// Reporting.

function machine() {
  let cpuModel = cpus()[0]?.model ?? 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpuModel;
  } catch {
    /* not Linux */
  }
  // Load average at start: other work on the machine skews every figure.
  return { node: process.version, cpuModel, cores: cpus().length, kernel: release(), loadavg: loadavg().map((x) => +x.toFixed(2)), tmpdir: tmpdir(), tmpFs: fsTypeOf(tmpdir()) };
}

/** Filesystem type of the mount holding `path` (fsync on tmpfs proves nothing). */
function fsTypeOf(path) {
  try {
    const mounts = readFileSync('/proc/mounts', 'utf8').trim().split('\n').map((l) => l.split(' '));
    const p = resolve(path);
    let best = ['', '/', 'unknown'];
    for (const m of mounts) if ((p === m[1] || p.startsWith(m[1].endsWith('/') ? m[1] : m[1] + '/')) && m[1].length >= best[1].length) best = m;
    return best[2];
  } catch {
    return 'unknown';
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const stat = (xs) => (xs.length ? { median: median(xs), min: Math.min(...xs), max: Math.max(...xs) } : undefined);

function summarize(runs, inputBytes) {
  const ok = runs.filter((r) => !r.error);
  return {
    runs: runs.length,
    failedRuns: runs.length - ok.length,
    eventsPerSec: stat(ok.map((r) => N / r.wallSec)),
    mbPerSec: stat(ok.map((r) => inputBytes / 1e6 / r.wallSec)),
    wallSec: stat(ok.map((r) => r.wallSec)),
    cpuSec: stat(ok.filter((r) => r.cpuSec !== undefined).map((r) => r.cpuSec)),
    peakRssMiB: stat(ok.filter((r) => r.peakRssKiB !== undefined).map((r) => r.peakRssKiB / 1024)),
    storedBytes: stat(ok.map((r) => r.storedBytes)),
    lostMax: ok.length ? Math.max(...ok.map((r) => r.lost)) : undefined,
    allChecksOk: ok.length === runs.length && ok.every((r) => r.check === 'ok'),
  };
}

function fmt(s, digits, scale = 1) {
  if (!s) return 'n/a';
  const f = (x) => (x * scale).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min)}-${f(s.max)})`;
}

function table(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

// ---------------------------------------------------------------------------

async function main() {
  const g0 = performance.now();
  const input = makeBuffer(N, SEED);
  const genSec = (performance.now() - g0) / 1000;
  const parts = splitLines(input, CLIENTS);
  const env = machine();

  const systems = [
    { name: 'baseline copier', key: 'copier', run: () => runCopier(input, parts) },
    { name: 'sealog fsync=batch', key: 'sealog-batch', run: () => runSealog('batch', parts) },
    { name: 'sealog fsync=never', key: 'sealog-never', run: () => runSealog('never', parts) },
  ];

  const header = [
    'sealog throughput benchmark',
    `  events     ${N.toLocaleString('en-US')} (seed ${SEED}), ${(input.length / 1e6).toFixed(1)} MB NDJSON, mean ${(input.length / N).toFixed(0)} B/event (generated in ${genSec.toFixed(1)} s, not timed)`,
    `  runs       ${RUNS}, systems interleaved within each run; ${CLIENTS} concurrent client connection(s), 64 KiB writes`,
    `  timed      first byte sent -> all data durable (sealog: every commit ack received; copier: exit after flush+fsync)`,
    `  server     CPU = utime+stime from /proc during the timed interval; peak RSS = VmHWM over the process life`,
    `  sealog     acks on, batch defaults (max_records 4096, max_bytes 1 MiB, linger 2 ms), log.level warn`,
    `  machine    node ${env.node}, ${env.cpuModel}, ${env.cores} cores, kernel ${env.kernel}, load avg ${env.loadavg.join(' ')} at start`,
    `  temp dir   ${env.tmpdir} (${env.tmpFs})`,
  ].join('\n');
  console.log(header + '\n');

  const results = Object.fromEntries(systems.map((s) => [s.key, []]));
  for (let run = 1; run <= RUNS; run++) {
    for (const sys of systems) {
      let r;
      try {
        r = await sys.run();
      } catch (err) {
        r = { error: err.message, check: `ERROR: ${err.message}` };
      }
      results[sys.key].push(r);
      const detail = r.error
        ? r.check
        : `${(N / r.wallSec).toFixed(0)} events/s, wall ${r.wallSec.toFixed(2)} s, cpu ${r.cpuSec?.toFixed(2)} s, rss ${(r.peakRssKiB / 1024).toFixed(0)} MiB, ${r.check}`;
      console.log(`  run ${run}/${RUNS}  ${sys.name.padEnd(20)} ${detail}`);
    }
  }

  const summary = Object.fromEntries(systems.map((s) => [s.key, summarize(results[s.key], input.length)]));
  const base = summary.copier.eventsPerSec?.median;
  const rows = [['system', 'events/s', 'MB/s', 'wall s', 'server CPU s', 'peak RSS MiB', 'on disk MB', 'vs copier', 'lost', 'checks']];
  for (const s of systems) {
    const m = summary[s.key];
    const ratio = base && m.eventsPerSec ? `${(m.eventsPerSec.median / base).toFixed(2)}x` : 'n/a';
    rows.push([
      s.name, fmt(m.eventsPerSec, 0), fmt(m.mbPerSec, 1), fmt(m.wallSec, 2), fmt(m.cpuSec, 2), fmt(m.peakRssMiB, 0),
      m.storedBytes ? (m.storedBytes.median / 1e6).toFixed(1) : 'n/a',
      s.key === 'copier' ? '1.00x' : ratio, m.lostMax === undefined ? 'n/a' : String(m.lostMax),
      m.allChecksOk ? 'ok' : `FAIL (${m.failedRuns} errored)`,
    ]);
  }
  console.log('\n' + table(rows));
  console.log('\nmedian (min-max) over runs; MB = 10^6 bytes of NDJSON input; vs copier = ratio of median events/s;');
  console.log('lost = most lines missing in any run (sealog: N - committed acks; copier: N - output lines).');

  const failed = Object.entries(results).flatMap(([k, rs]) => rs.map((r, i) => [k, i + 1, r]).filter(([, , r]) => r.check !== 'ok'));
  for (const [k, i, r] of failed) console.log(`\n${k} run ${i}: ${r.check}`);

  const outDir = join(ROOT, 'benchmarks', 'results');
  mkdirSync(outDir, { recursive: true });
  const outFile = join(outDir, 'throughput-latest.json');
  writeFileSync(
    outFile,
    JSON.stringify({ date: new Date().toISOString(), params: { events: N, runs: RUNS, clients: CLIENTS, seed: SEED, inputBytes: input.length }, machine: env, summary, runs: results }, null, 2) + '\n',
  );
  console.log(`\nresults written to ${outFile}`);
  return failed.length ? 1 : 0;
}

try {
  process.exitCode = await main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  cleanupAll();
}
