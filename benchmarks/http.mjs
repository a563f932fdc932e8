#!/usr/bin/env node
// The HTTP API (DESIGN §12, issue 14), against a real daemon on loopback:
//   1. search latency: a selective query (one correlation_id) on a log of --records records
//   2. /metrics scrape time
//   3. POST /api/v1/events (batches of 100) against the socket, same events, same daemon config
//   4. dashboard first paint (Debian's chromium via playwright-core, headless)
//   5. socket ingest alone vs during 200 concurrent API readers (closed loop, and polling at 1 req/s each)
//
// usage: node benchmarks/http.mjs [--records N] [--events E] [--runs R] [--data DIR] [--out FILE]
//   --records N  records in the seeded log for the search (default 1,000,000; the figure is 10,000,000)
//   --events E   events per ingest run (default 100,000)
//   --runs R     runs of each ingest comparison (default 3; the median and in-run ratios are reported)
//   --data DIR   keep (or reuse) the seeded log there
//   --origin O   the origin of a log given with --data (default sealog/bench, what this script writes;
//                query.mjs writes sealog/test, and the same correlation ids: its log can be searched here)
//   --out FILE   Markdown results (default benchmarks/results/http.md)
// Needs `npx tsc -p .` first.
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { makeBuffer, mulberry32 } from './lib/events.mjs';
import { machine, machineLine } from './lib/machine.mjs';
import { cleanupAll, connectUnix, readProcStats, runSealogCli, sendBuffer, startSealog, stopProcess } from './lib/proc.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    events: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '3' },
    data: { type: 'string' },
    origin: { type: 'string', default: 'sealog/bench' },
    out: { type: 'string' },
  },
});
const N = Number(values.records);
const E = Number(values.events);
const RUNS = Number(values.runs);
const log = (s) => process.stderr.write(`${s}\n`);
const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const median = (xs) => pct(xs, 0.5);
const ms = (x) => `${x.toFixed(x < 10 ? 2 : 1)} ms`;
const rate = (x) => `${Math.round(x).toLocaleString('en-US')} ev/s`;
const freePort = () =>
  new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });

async function daemon(config = {}) {
  const port = await freePort();
  const d = await startSealog(
    { http: { listen: `127.0.0.1:${port}`, access_log_flush_ms: 600000, max_body_bytes: 64 << 20 }, ...config },
    { readyTimeoutMs: 600_000 },
  );
  const dataDir = config.data_dir ?? d.dataDir;
  const token = (await runSealogCli(['token', 'create', '--role', 'admin', '--data', dataDir])).stdout.trim();
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 2400; i++)
    if (
      await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    else await new Promise((r) => setTimeout(r, 50));
  const get = (path, headers = {}) => fetch(base + path, { headers: { authorization: `Bearer ${token}`, ...headers } });
  return { ...d, dataDir, port, token, base, get, stop: () => stopProcess(d.child) };
}

const results = [];
const row = (what, figure, goal, met) => results.push({ what, figure, goal, met });

try {
  // ---- 1 and 2: search and scrape on a seeded log ----
  const data = values.data ?? join(mkdtempSync(join(tmpdir(), 'sealog-httpbench-')), 'data');
  const RUN_LEN = 100;
  const runOf = (i) => Math.floor(i / (RUN_LEN * 64)) * 64 + (i % 64);
  if (!existsSync(join(data, 'segments'))) {
    log(`generating ${N.toLocaleString('en-US')} records in ${data} …`);
    const { writeLog } = await import(join(ROOT, 'dist/test/helpers/writeLog.js'));
    const rnd = mulberry32(42);
    const TYPES = ['PlanningEvent', 'AgentRequestEvent', 'ValidationEvent', 'GAMPCategorizationEvent', 'tool_start', 'tool_end'];
    await writeLog(
      data,
      N,
      (i) => {
        const type = TYPES[Math.floor(rnd() * TYPES.length)];
        const e = {
          event_type: type,
          correlation_id: `run-${runOf(i).toString(16).padStart(8, '0')}`,
          agent_id: `agent-${Math.floor(rnd() * 12)}`,
          step: i % 100,
          confidence_score: Math.round(rnd() * 1000) / 1000,
          message: `step ${i % 100} of run ${runOf(i)}: ${rnd().toString(36).slice(2)}`,
        };
        return { event: e, type, level: rnd() < 0.05 ? 'warn' : 'info', stream: /Validation|GAMP/.test(type) ? 'audit' : 'application' };
      },
      { origin: values.origin, batch: 2000, segmentBytes: 128 << 20, checkpointEvery: 100_000 },
    );
    const ix = await runSealogCli(['index', 'rebuild', '--data', data], 3_600_000);
    if (ix.code !== 0) throw new Error(`index rebuild: ${ix.stderr}`);
  }
  const big = await daemon({ data_dir: data, origin: values.origin });
  const searchMs = [];
  let hits = 0;
  // The daemon's CPU time (all threads, from /proc) over the timed requests: what one costs, whatever the load.
  const daemonCpu = () => readProcStats(big.child.pid).cpuSec * 1000;
  let cpu0 = 0;
  for (let k = 0; k < 60; k++) {
    if (k === 10) cpu0 = daemonCpu();
    const corr = `run-${runOf(Math.floor(((k * 0.61803) % 1) * N))
      .toString(16)
      .padStart(8, '0')}`;
    const t = performance.now();
    const r = await big.get(`/api/v1/records?field=event.correlation_id=${corr}&limit=100`);
    const body = await r.json();
    searchMs.push(performance.now() - t);
    if (!r.ok) throw new Error(`search: ${r.status} ${JSON.stringify(body)}`);
    hits += body.records.length;
  }
  const searchCpu = (daemonCpu() - cpu0) / 50;
  const warm = searchMs.slice(10);
  row(
    `search, one correlation_id (~${Math.round(hits / 60)} hits) on ${N.toLocaleString('en-US')} records: p50 / p99 (warm, 50 queries; first 10 as warm-up); daemon CPU per search`,
    `${ms(median(warm))} / ${ms(pct(warm, 0.99))}; ${ms(searchCpu)} CPU`,
    'p99 < 100 ms (on 10M records)',
    pct(warm, 0.99) < 100,
  );
  const scrape = [];
  const scrapeCpu0 = daemonCpu();
  for (let k = 0; k < 200; k++) {
    const t = performance.now();
    await (await big.get('/metrics')).text();
    scrape.push(performance.now() - t);
  }
  const scrapeCpu = (daemonCpu() - scrapeCpu0) / 200;
  row(
    '/metrics scrape: p50 / p99 (200 scrapes); daemon CPU per scrape',
    `${ms(median(scrape))} / ${ms(pct(scrape, 0.99))}; ${ms(scrapeCpu)} CPU`,
    '< 10 ms',
    pct(scrape, 0.99) < 10,
  );

  // ---- 4: dashboard first paint ----
  const { chromium } = await import('playwright-core');
  const paints = [];
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  for (let k = 0; k < 7; k++) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.addInitScript((token) => sessionStorage.setItem('sealog.token', token), big.token);
    await page.goto(`${big.base}/#overview`);
    await page.waitForFunction(() => /\d/.test(document.getElementById('ov-tree-size')?.textContent ?? ''));
    const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN);
    const data = await page.evaluate(() => performance.now());
    paints.push({ fcp, data });
    await ctx.close();
  }
  await browser.close();
  const fcp = median(paints.map((p) => p.fcp));
  row(
    'dashboard first contentful paint (median of 7, fresh context each)',
    `${ms(fcp)}; overview figures filled at ${ms(median(paints.map((p) => p.data)))}`,
    '< 1 s on loopback',
    fcp < 1000,
  );
  await big.stop();

  // ---- 3 and 5: ingest ----
  const input = makeBuffer(E, 7);
  const lines = input.toString('utf8').trimEnd().split('\n');
  const timedSocket = async (d, buf, n) => {
    const t = performance.now();
    const sock = await connectUnix(d.socketPath);
    const r = await sendBuffer(sock, buf, { lines: n, acks: true });
    if (r.committed !== n) throw new Error(`socket: ${r.committed} of ${n} committed`);
    return n / ((performance.now() - t) / 1000);
  };
  const postRun = async (d) => {
    const t = performance.now();
    let at = 0;
    let committed = 0;
    const worker = async () => {
      while (at < lines.length) {
        const batch = lines.slice(at, (at += 100));
        for (;;) {
          const r = await fetch(`${d.base}/api/v1/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${d.token}`, 'content-type': 'application/x-ndjson' },
            body: `${batch.join('\n')}\n`,
          });
          const body = await r.json();
          if (r.status === 503) {
            await new Promise((res) => setTimeout(res, 20));
            continue;
          }
          if (!r.ok) throw new Error(`POST: ${r.status} ${JSON.stringify(body)}`);
          committed += body.committed;
          break;
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    if (committed !== lines.length) throw new Error(`POST: ${committed} of ${lines.length} committed`);
    return lines.length / ((performance.now() - t) / 1000);
  };
  const posts = [];
  const sockets = [];
  const alone = [];
  const closed = [];
  const polling = [];
  let readErrors = 0;
  let reads = 0;
  let peakRss = 0;
  const rssOf = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
  for (let run = 0; run < RUNS; run++) {
    log(`ingest run ${run + 1}/${RUNS} …`);
    const d = await daemon();
    // In-run pairs, order alternating: socket and POST batches of 100 (16 requests in flight).
    if (run % 2) {
      posts.push(await postRun(d));
      sockets.push(await timedSocket(d, input, E));
    } else {
      sockets.push(await timedSocket(d, input, E));
      posts.push(await postRun(d));
    }
    // Seeded correlation ids for the readers to find.
    await postRun(d);
    alone.push(await timedSocket(d, input, E));
    for (const [mode, out] of [
      ['closed', closed],
      ['polling', polling],
    ]) {
      let on = true;
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssOf(d.child.pid))), 50);
      const reader = async (i) => {
        const paths = [
          `/api/v1/records?type=${encodeURIComponent('*')}&limit=20&reverse=true`,
          '/api/v1/overview',
          `/api/v1/records/${i * 13}`,
          '/metrics',
          `/api/v1/records?text=validation&limit=10`,
        ];
        for (let k = 0; on; k++) {
          const t = performance.now();
          const r = await d.get(paths[(i + k) % paths.length]);
          await r.arrayBuffer();
          reads++;
          if (r.status !== 200) readErrors++;
          if (mode === 'polling') await new Promise((res) => setTimeout(res, Math.max(0, 1000 - (performance.now() - t))));
        }
      };
      const rs = Array.from({ length: 200 }, (_, i) => reader(i));
      out.push(await timedSocket(d, input, E));
      on = false;
      await Promise.all(rs);
      clearInterval(sampler);
    }
    await d.stop();
  }
  const ratio = (a, b) => median(a.map((x, i) => x / b[i]));
  row(
    `POST /api/v1/events, batches of 100, 16 in flight: events/s (median of ${RUNS}) and in-run ratio to the socket`,
    `${rate(median(posts))} vs socket ${rate(median(sockets))}: ${(ratio(posts, sockets) * 100).toFixed(0)} %`,
    '>= 50 % of socket ingest',
    ratio(posts, sockets) >= 0.5,
  );
  row(
    'socket ingest during 200 readers polling once a second each (200 req/s): in-run ratio to ingest alone',
    `${rate(median(polling))} vs ${rate(median(alone))}: ${(ratio(polling, alone) * 100).toFixed(0)} %`,
    'drop <= 20 %',
    ratio(polling, alone) >= 0.8,
  );
  row(
    'socket ingest during 200 closed-loop readers (each sends its next request when the last is answered)',
    `${rate(median(closed))} vs ${rate(median(alone))}: ${(ratio(closed, alone) * 100).toFixed(0)} %`,
    'drop <= 20 %',
    ratio(closed, alone) >= 0.8,
  );
  row(
    'reads during the ingest runs: error responses / total; daemon peak RSS',
    `${readErrors} / ${reads}; ${(peakRss / 2 ** 20).toFixed(0)} MiB`,
    'no errors, RSS bounded',
    readErrors === 0,
  );
  if (!values.data) rmSync(resolve(data, '..'), { recursive: true, force: true });
} finally {
  cleanupAll();
}

const m = machine();
const md = [
  '# HTTP API benchmark (benchmarks/http.mjs)',
  '',
  `Method: a real daemon on loopback per part (fsync per batch, defaults otherwise); search on a log of ${N.toLocaleString('en-US')} seeded records (writeLog, index rebuilt first; 64 agent runs of 100 records interleaved, one correlation_id each); ingest runs of ${E.toLocaleString('en-US')} seeded events (benchmarks/lib/events.mjs), ${RUNS} runs, a fresh daemon per run, ratios taken within a run. Socket: one connection with acks, timed from connect to the last commit ack. Readers: 200 concurrent fetch loops over records search, one record with its proof, overview and /metrics.`,
  `Machine: ${machineLine(m)}`,
  '',
  '| what | measured | goal | met |',
  '|---|---|---|---|',
  ...results.map((r) => `| ${r.what} | ${r.figure} | ${r.goal} | ${r.met ? 'yes' : '**no**'} |`),
  '',
];
const out = values.out ?? join(ROOT, 'benchmarks/results/http.md');
writeFileSync(out, md.join('\n'));
console.log(md.join('\n'));
