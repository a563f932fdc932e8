#!/usr/bin/env node
// Reading the trail (DESIGN §10, issue 12): query with the index, the full scan
// against `lz4 -dc | grep -F`, prove, and the index's size.
//
// usage: node benchmarks/query.mjs [--records N] [--runs R] [--data DIR] [--out FILE]
//   --records N  records in the seeded log (default 2,000,000; the issue's figure is 10,000,000)
//   --runs R     runs of each timed command (default 5); the median is reported
//   --data DIR   keep (or reuse) the generated log there instead of a temp dir
//   --out FILE   write the results as Markdown (default benchmarks/results/query.md)
// Needs `npx tsc -p .` first (it runs dist/ and bin/sealog.js).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { eventSource, mulberry32 } from './lib/events.mjs';
import { machine, machineLine } from './lib/machine.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/sealog.js');
const { values } = parseArgs({
  options: { records: { type: 'string', default: '2000000' }, runs: { type: 'string', default: '5' }, data: { type: 'string' }, out: { type: 'string' } },
});
const N = Number(values.records);
const RUNS = Number(values.runs);
const PER_HOUR = 100_000; // receive times: 100,000 records an hour, from a fixed start
const T0 = Date.UTC(2026, 0, 5, 0, 0, 0);
const RUN_LEN = 100; // records per agent run (one correlation_id), 64 runs interleaved
const runOf = (i) => Math.floor(i / (RUN_LEN * 64)) * 64 + (i % 64);

const { writeLog } = await import(join(ROOT, 'dist/test/helpers/writeLog.js'));
const { openTrail } = await import(join(ROOT, 'dist/src/read/trail.js'));
const { query } = await import(join(ROOT, 'dist/src/read/query.js'));
const { emptyFilter } = await import(join(ROOT, 'dist/src/read/filter.js'));
const { inclusionBundle } = await import(join(ROOT, 'dist/src/read/proofs.js'));

const data = values.data ?? join(mkdtempSync(join(tmpdir(), 'sealog-qbench-')), 'data');
const log = (s) => process.stderr.write(`${s}\n`);

if (!existsSync(join(data, 'segments'))) {
  log(`generating ${N.toLocaleString('en-US')} records in ${data} …`);
  const next = eventSource(42);
  const t = performance.now();
  await writeLog(
    data,
    N,
    (i) => {
      const e = next();
      e.correlation_id = `run-${runOf(i).toString(16).padStart(8, '0')}`;
      const type = e.event_type ?? e.hook_type ?? 'log';
      return { event: e, type, level: (e.level ?? e.levelname ?? 'info').toLowerCase(), stream: /Validation|GAMP/.test(type) ? 'audit' : 'application' };
    },
    { batch: 2000, segmentBytes: 128 << 20, checkpointEvery: 100_000, tsOf: (i) => T0 + (i * 3_600_000) / PER_HOUR },
  );
  log(`  written in ${((performance.now() - t) / 1000).toFixed(0)} s`);
}

const segs = readdirSync(join(data, 'segments'))
  .filter((f) => f.endsWith('.seg.lz4'))
  .map((f) => join(data, 'segments', f));
const segBytes = segs.reduce((s, f) => s + statSync(f).size, 0);
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
/** A command in a new process; `cpuMs` its user + system CPU time (GNU time), which the machine's load does not inflate as much as wall time. */
const run = (cmd, args) => {
  const r = TIME
    ? spawnSync(TIME, ['-f', '\n@cpu %U %S', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 })
    : spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  const m = /\n@cpu ([\d.]+) ([\d.]+)\n?$/.exec(r.stderr ?? '');
  if (m) r.stderr = r.stderr.slice(0, m.index);
  return Object.assign(r, { cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN });
};
const sealog = (args) => run(process.execPath, [BIN, ...args]);
const time = (fn) => {
  const t = performance.now();
  const r = fn();
  return { ms: performance.now() - t, r };
};
const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
/** Evicts the log's files from the page cache (POSIX_FADV_DONTNEED), so the next read comes from disk. */
const evict = () => {
  const files = [
    ...segs,
    ...readdirSync(join(data, 'index'))
      .filter((f) => f.endsWith('.idx'))
      .map((f) => join(data, 'index', f)),
  ];
  execFileSync('python3', [
    '-c',
    'import os,sys\nfor p in sys.argv[1:]:\n  fd=os.open(p,os.O_RDONLY); os.fsync(fd); os.posix_fadvise(fd,0,0,os.POSIX_FADV_DONTNEED); os.close(fd)',
    ...files,
  ]);
};

// 1. The index, built up front (a query would build what is missing on its own).
rmSync(join(data, 'index'), { recursive: true, force: true });
const build = time(() => sealog(['index', 'rebuild', '--data', data]));
if (build.r.status !== 0) throw new Error(build.r.stderr);
const idxBytes = readdirSync(join(data, 'index'))
  .filter((f) => f.endsWith('.idx'))
  .reduce((s, f) => s + statSync(join(data, 'index', f)).size, 0);
const treeBytes = readdirSync(join(data, 'index/tree')).reduce((s, f) => s + statSync(join(data, 'index/tree', f)).size, 0);

// 2. A selective query: one correlation_id (~100 hits), cold then warm.
const corr = `run-${runOf(Math.floor(N * 0.61803))
  .toString(16)
  .padStart(8, '0')}`;
const selArgs = ['query', '--data', data, '--field', `event.correlation_id=${corr}`, '--format', 'jsonl'];
const cold = [];
const warm = [];
const warmCpu = [];
let hits = 0;
for (let r = 0; r < RUNS; r++) {
  evict();
  const c = time(() => sealog(selArgs));
  cold.push(c.ms);
  hits = c.r.stdout.split('\n').filter(Boolean).length;
  const w = time(() => sealog(selArgs));
  warm.push(w.ms);
  warmCpu.push(w.r.cpuMs);
}

// The same in-process (what the HTTP API pays: no process start), warm, a fresh Trail each time.
const inproc = [];
for (let r = 0; r < RUNS; r++) {
  const t = performance.now();
  let n = 0;
  for await (const _ of query(openTrail(data), { filter: { ...emptyFilter(), fields: [{ path: 'event.correlation_id', value: corr }] } })) n++;
  inproc.push(performance.now() - t);
  if (n !== hits) throw new Error(`in-process query found ${n}, the CLI ${hits}`);
}

// 3. One hour: frames decoded against frames whose records fall in that hour.
const hourStart = T0 + Math.floor(N / PER_HOUR / 2) * 3_600_000;
const trail = openTrail(data);
let framesRead = 0;
let hourRecords = 0;
const filter = { ...emptyFilter(), since: hourStart, until: hourStart + 3_600_000 };
for await (const _ of query(trail, { filter, onProgress: (p) => (framesRead = p.frames) })) hourRecords++;
const hourFrames = Math.ceil(hourRecords / 2000) + 1; // frames of 2,000 records; the hour may straddle one more
let totalFrames = 0;
for (const s of await trail.segments()) totalFrames += (await trail.frames(s)).length;
const hourCli = median(
  Array.from(
    { length: RUNS },
    () =>
      time(() =>
        sealog([
          'query',
          '--data',
          data,
          '--since',
          new Date(hourStart).toISOString(),
          '--until',
          new Date(hourStart + 3_600_000).toISOString(),
          '--format',
          'jsonl',
        ]),
      ).ms,
  ),
);

// 4. Full scan with --text against lz4 -dc | grep -F on the same segments (page cache warm for both).
const rng = mulberry32(7);
const texts = [
  'ALCOA principle',
  `call_${Math.floor(rng() * 0xffffff)
    .toString(16)
    .padStart(6, '0')}`,
];
const scan = [];
for (const text of texts) {
  const ours = [];
  const theirs = [];
  let n1 = 0;
  let n2 = 0;
  for (let r = 0; r < RUNS; r++) {
    const a = time(() => sealog(['query', '--data', data, '--text', text, '--format', 'jsonl']));
    ours.push(a.ms);
    n1 = a.r.stdout.split('\n').filter(Boolean).length;
    const b = time(() =>
      spawnSync('sh', ['-c', `cat ${segs.map((s) => `'${s}'`).join(' ')} | lz4 -dc | grep -F -- '${text}'`], { encoding: 'utf8', maxBuffer: 1 << 30 }),
    );
    theirs.push(b.ms);
    n2 = b.r.stdout.split('\n').filter(Boolean).length;
  }
  if (n1 !== n2) throw new Error(`--text ${text}: sealog found ${n1}, grep ${n2}`);
  scan.push({ text, hits: n1, ours: median(ours), theirs: median(theirs) });
}

// 5. prove: the first builds nothing (index rebuild stored the tree hashes); each is a process start.
const proveMs = [];
const proveCpu = [];
for (let r = 0; r < RUNS; r++) {
  const seq = Math.floor(mulberry32(r + 1)() * N);
  const p = time(() => sealog(['prove', String(seq), '--data', data]));
  if (p.r.status !== 0) throw new Error(p.r.stderr);
  proveMs.push(p.ms);
  proveCpu.push(p.r.cpuMs);
}
const proveInproc = [];
for (let r = 0; r < RUNS; r++) {
  const t = performance.now();
  await inclusionBundle(openTrail(data), Math.floor(mulberry32(r + 100)() * N));
  proveInproc.push(performance.now() - t);
}
const starts = Array.from({ length: RUNS }, () => time(() => run(process.execPath, ['-e', '0'])));
const nodeStart = median(starts.map((s) => s.ms));
const nodeStartCpu = median(starts.map((s) => s.r.cpuMs));

const env = machine();
const f = (ms) => `${ms.toFixed(0)} ms`;
const lines = [
  '# Reading the trail: query, index, prove',
  '',
  `Command: \`node benchmarks/query.mjs --records ${N} --runs ${RUNS}\` (after \`npx tsc -p .\`). Generated ${new Date().toISOString().slice(0, 10)}.`,
  '',
  '## Method',
  '',
  `- log: ${N.toLocaleString('en-US')} records written by the writer's own parts (test/helpers/writeLog.ts: seal, LZ4 frames of 2,000 records, 128 MiB segments, a checkpoint every 100,000), events from benchmarks/lib/events.mjs (seed 42) with a correlation_id per agent run of ${RUN_LEN} records, 64 runs interleaved; receive times ${PER_HOUR.toLocaleString('en-US')} records an hour. ${segs.length} segment(s), ${(segBytes / 1e6).toFixed(1)} MB compressed.`,
  `- every figure is the median of ${RUNS} runs of the CLI as a user runs it (\`node bin/sealog.js …\`, a new process each time, node start-up ${f(nodeStart)} included, ${f(nodeStartCpu)} of CPU); "CPU" is the process's user + system time (GNU time), which load inflates far less than wall time; "cold" evicts the segments and index files from the page cache first (posix_fadvise DONTNEED), "warm" runs right after.`,
  `- machine: ${machineLine(env)}. A load average above the core count means other jobs shared the CPUs: wall times are then pessimistic.`,
  '',
  '## Results',
  '',
  '| what | measured | goal |',
  '|---|---|---|',
  `| selective query (one correlation_id, ${hits} hits), cold cache | ${f(median(cold))} | < 1 s |`,
  `| the same, warm | ${f(median(warm))} (CPU ${f(median(warmCpu))}) | < 200 ms |`,
  `| the same, warm, in-process (a fresh Trail; what the HTTP API pays) | ${f(median(inproc))} | |`,
  `| one hour (${hourRecords.toLocaleString('en-US')} records): frames decoded | ${framesRead} of ${totalFrames} (the hour spans ≈ ${hourFrames}) | only that hour's |`,
  `| one hour, CLI jsonl | ${f(hourCli)} | |`,
  ...scan.map(
    (s) =>
      `| full scan --text "${s.text}" (${s.hits} hits): sealog / lz4 -dc \\| grep -F | ${f(s.ours)} / ${f(s.theirs)} = ${(s.theirs / s.ours).toFixed(2)}× grep's speed | ≥ 0.5× |`,
  ),
  `| prove SEQ (tree hashes stored) | ${f(median(proveMs))} (CPU ${f(median(proveCpu))}) | < 50 ms |`,
  `| prove, in-process (a fresh Trail) | ${f(median(proveInproc))} | |`,
  `| index size (query index / segments) | ${(idxBytes / 1e6).toFixed(2)} MB / ${(segBytes / 1e6).toFixed(1)} MB = ${((100 * idxBytes) / segBytes).toFixed(2)} % (+ tree hashes ${(treeBytes / 1e6).toFixed(2)} MB = ${((100 * treeBytes) / segBytes).toFixed(2)} %) | ≤ 2 % |`,
  `| sealog index rebuild (query index + tree hashes) | ${(build.ms / 1000).toFixed(1)} s | |`,
  '',
];
const text = lines.join('\n');
console.log(text);
writeFileSync(values.out ?? join(ROOT, 'benchmarks/results/query.md'), text);
if (!values.data) rmSync(join(data, '..'), { recursive: true, force: true });
