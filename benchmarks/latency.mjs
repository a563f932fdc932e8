#!/usr/bin/env node
// 2. Latency: ingest -> ack percentiles at fixed offered loads, fsync per batch.
//
// One client connection asks for acks and sends the seeded events open-loop at
// a fixed rate (it never waits for acks or for write() to drain, so a slow
// server cannot slow the offered load: no coordinated omission). Each event's
// latency runs from the write() call that handed it to the socket to the
// arrival of the commit ack covering its line (acks carry through_line).
// Every measured event is recorded in an HDR histogram (Node's own
// perf_hooks.createHistogram, HdrHistogram_c: 1 µs to 10 min, 3 significant
// digits), so memory stays fixed however long a load runs.
//
// usage: node benchmarks/latency.mjs [--loads 1000,10000,50000] [--seconds S] [--runs R] [--quick]
import { createHistogram } from 'node:perf_hooks';
import { makeBuffer } from './lib/events.mjs';
import { isMain, machine, machineLine } from './lib/machine.mjs';
import { COMMON_USAGE, parseOptions } from './lib/options.mjs';
import { runMain, connectUnix, removeTempDir, sampleProcess, startSealog, stopProcess } from './lib/proc.mjs';
import { fmtNum, markdownTable, stat, textTable } from './lib/stats.mjs';
import { SEALOG_BATCH, daemonProblems } from './lib/systems.mjs';

export const PERCENTILES = [50, 90, 99, 99.9, 100];
export const pLabel = (p) => (p === 100 ? 'max' : `p${p}`);
export const DEFAULT_LOADS = [1_000, 10_000, 50_000];

/** Line offsets of an NDJSON buffer: line i is buf[starts[i], starts[i+1]). */
function lineStarts(buf) {
  const starts = [0];
  for (let i = buf.indexOf(0x0a); i >= 0 && i + 1 < buf.length; i = buf.indexOf(0x0a, i + 1)) starts.push(i + 1);
  starts.push(buf.length);
  return starts;
}

/**
 * Offers `rate` events/s for warmupSec + seconds on one acked connection.
 * Events of the warm-up are sent and acked but not counted. Returns
 * { histogram (µs), offered, counted, acked, achievedPerSec, commits, meanBatch, sendLagMaxMs }.
 */
async function paced(socketPath, input, starts, rate, seconds, warmupSec) {
  const sock = await connectUnix(socketPath);
  const total = Math.round(rate * (warmupSec + seconds));
  const firstCounted = Math.round(rate * warmupSec);
  const writtenAt = new Float64Array(total);
  const histogram = createHistogram({ lowest: 1, highest: 600e6, figures: 3 });
  const nLines = starts.length - 1;
  let acked = 0; // events acked so far (acks are in line order on one connection)
  let commits = 0;
  let pending = '';
  let sent = 0;
  let sendLagMaxMs = 0;
  let lastAckAt = 0;

  const done = new Promise((resolve, reject) => {
    sock.on('error', reject);
    sock.setEncoding('utf8');
    sock.on('data', (d) => {
      const now = performance.now();
      pending += d;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const a = JSON.parse(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        if (a.ack === 'rejected') return reject(new Error(`line ${a.line} rejected: ${a.code} ${a.reason}`));
        if (a.ack !== 'commit') continue;
        commits++;
        // Line 1 is the handshake, so event i is line i + 2.
        const through = a.through_line - 1;
        for (; acked < through; acked++) if (acked >= firstCounted) histogram.record(Math.max(1, Math.round((now - writtenAt[acked]) * 1000)));
        lastAckAt = now;
      }
    });
    sock.on('end', () => (acked === total ? resolve() : reject(new Error(`server ended after ${acked} of ${total} acks`))));
  });

  done.catch(() => {}); // awaited below; a rejection before then is not "unhandled"
  sock.write('{"$sealog":{"ack":true}}\n');
  const t0 = performance.now();
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - t0) * rate) / 1000) + 1);
      if (due > sent) {
        // Lag of this write behind the schedule of the oldest event in it.
        sendLagMaxMs = Math.max(sendLagMaxMs, now - (t0 + (sent * 1000) / rate));
        const chunks = [];
        for (let i = sent; i < due; ) {
          // Contiguous run of input lines (the input is reused cyclically).
          const a = i % nLines;
          const n = Math.min(due - i, nLines - a);
          chunks.push(input.subarray(starts[a], starts[a + n]));
          i += n;
        }
        // Ignore write()'s backpressure on purpose: the load is offered on
        // schedule, whatever the server does (bounded by rate x duration).
        sock.write(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
        for (let i = sent; i < due; i++) writtenAt[i] = now;
        sent = due;
      }
      if (sent >= total) return resolve();
      setTimeout(tick, 1);
    };
    tick();
  });
  const tSent = performance.now();
  sock.end();
  const timeout = setTimeout(() => sock.destroy(new Error(`acks incomplete 300 s after the last write (${acked}/${total})`)), 300_000);
  await done.finally(() => clearTimeout(timeout));
  return {
    histogram,
    offered: total,
    counted: histogram.count,
    acked,
    sendSec: (tSent - t0) / 1000,
    // Throughput achieved over the whole run: acked events / first write -> last ack.
    achievedPerSec: total / ((lastAckAt - t0) / 1000),
    commits,
    meanBatch: total / commits,
    sendLagMaxMs,
  };
}

export const LATENCY_METHOD = (p, env) => [
  `load      one client connection with acks; seeded events (${p.inputEvents ? fmtNum(p.inputEvents) + ' distinct, reused cyclically' : ''}) sent open-loop at a fixed rate, written every ~1 ms timer tick`,
  `          (the client never waits for acks or for write() to drain: offered load does not bend to the server)`,
  `per load  ${p.warmupSec} s warm-up (sent, acked, not counted) + ${p.seconds} s measured; a fresh daemon per load and run; loads interleaved within each run`,
  `latency   write() of the event's line -> arrival of the commit ack covering it; every measured event in an HDR histogram (1 µs-10 min, 3 significant digits)`,
  `sealog    fsync.mode batch (ack after fsync); batch max_records ${p.batch.max_records}, max_bytes ${p.batch.max_bytes}, linger_ms ${p.batch.linger_ms}; log.level warn`,
  `runs      ${p.runs}; figures are the median (min-max) over runs of each run's percentile`,
  `machine   ${machineLine(env)}`,
];

/**
 * o: { loads, seconds, warmupSec, runs, seed, quick }. input: NDJSON events
 * to send (else generated). Returns a JSON-able result.
 */
export async function runLatency(o, { input, log = console.log } = {}) {
  input ??= makeBuffer(o.quick ? 20_000 : 200_000, o.seed);
  const starts = lineStarts(input);
  const env = machine();
  const batch = { ...SEALOG_BATCH, ...(o.lingerMs !== undefined ? { linger_ms: o.lingerMs } : {}) };
  const params = { loads: o.loads, seconds: o.seconds, warmupSec: o.warmupSec, runs: o.runs, inputEvents: starts.length - 1, batch, fsync: 'batch' };
  log(['2. latency, ingest -> ack', ...LATENCY_METHOD(params, env).map((l) => '  ' + l)].join('\n'));
  const runs = Object.fromEntries(o.loads.map((l) => [l, []]));
  for (let run = 1; run <= o.runs; run++) {
    const order = run % 2 ? o.loads : [...o.loads].reverse();
    for (const rate of order) {
      let r;
      const d = await startSealog({ fsync: { mode: 'batch' }, batch });
      const sampler = sampleProcess(d.child.pid);
      try {
        const m = await paced(d.socketPath, input, starts, rate, o.seconds, o.warmupSec);
        const stats = sampler.snapshot();
        const exit = await stopProcess(d.child, 120_000);
        const problems = daemonProblems(d.child.stderrText());
        const pct = Object.fromEntries(PERCENTILES.map((p) => [pLabel(p), m.histogram.percentile(p) / 1000]));
        r = {
          run,
          rate,
          ...pct,
          counted: m.counted,
          offered: m.offered,
          achievedPerSec: m.achievedPerSec,
          commits: m.commits,
          meanBatch: m.meanBatch,
          sendLagMaxMs: m.sendLagMaxMs,
          peakRssKiB: stats?.hwmKiB,
          check: exit.code !== 0 ? `FAIL: exit ${exit.code ?? exit.signal}` : problems.length ? `FAIL: daemon logged ${problems[0].slice(0, 200)}` : 'ok',
        };
      } catch (err) {
        r = { run, rate, error: err.message, check: `ERROR: ${err.message}` };
      } finally {
        sampler.stop();
        if (d.child.exitCode === null) await stopProcess(d.child, 5000).catch(() => {});
        removeTempDir(d.dir);
      }
      runs[rate].push(r);
      log(
        `  run ${run}/${o.runs}  ${fmtNum(rate).padStart(6)} events/s offered  ` +
          (r.error
            ? r.check
            : `${PERCENTILES.map((p) => `${pLabel(p)} ${r[pLabel(p)].toFixed(2)}`).join('  ')} ms; achieved ${fmtNum(r.achievedPerSec)}/s, ${fmtNum(r.meanBatch, 0)} events/commit, ${r.check}`),
      );
    }
  }
  const summary = {};
  for (const rate of o.loads) {
    const ok = runs[rate].filter((r) => !r.error);
    summary[rate] = {
      ...Object.fromEntries(PERCENTILES.map((p) => [pLabel(p), stat(ok.map((r) => r[pLabel(p)]))])),
      achievedPerSec: stat(ok.map((r) => r.achievedPerSec)),
      meanBatch: stat(ok.map((r) => r.meanBatch)),
      counted: ok.reduce((a, r) => a + r.counted, 0),
      allChecksOk: ok.length === runs[rate].length && ok.every((r) => r.check === 'ok'),
    };
  }
  return { date: new Date().toISOString(), params, machine: env, method: LATENCY_METHOD(params, env), summary, runs };
}

const fmtMs = (s) => {
  if (!s) return 'n/a';
  const f = (x) => (x >= 100 ? fmtNum(x, 0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  return s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min)}-${f(s.max)})`;
};

export function latencyRows(res) {
  const rows = [['offered events/s', ...PERCENTILES.map((p) => `${pLabel(p)} ms`), 'achieved events/s', 'events/commit', 'samples', 'check']];
  for (const rate of res.params.loads) {
    const s = res.summary[rate];
    rows.push([
      fmtNum(rate),
      ...PERCENTILES.map((p) => fmtMs(s[pLabel(p)])),
      s.achievedPerSec ? fmtNum(s.achievedPerSec.median) : 'n/a',
      s.meanBatch ? fmtNum(s.meanBatch.median, 0) : 'n/a',
      fmtNum(s.counted),
      s.allChecksOk ? 'ok' : 'FAIL',
    ]);
  }
  return rows;
}

export const LATENCY_NOTES = [
  "median (min-max) over runs of each run's percentile (HDR histogram, 3 significant digits); achieved = events / (first write -> last ack): below the offered rate, the server is saturated and latency is queueing.",
];

export const latencyMarkdown = (res) => [markdownTable(latencyRows(res)), '', LATENCY_NOTES.join('\n')].join('\n');
export const printLatency = (res, log = console.log) => log('\n' + textTable(latencyRows(res)) + '\n' + LATENCY_NOTES.join('\n'));

/** Durations for full and quick runs. */
export function latencyOptions(o) {
  return {
    ...o,
    loads: o.loads ?? DEFAULT_LOADS,
    seconds: o.seconds ?? (o.quick ? 1.5 : 10),
    warmupSec: o.warmupSec ?? (o.quick ? 0.5 : 2),
  };
}

if (isMain(import.meta.url)) {
  await runMain(async () => {
    const o = parseOptions(process.argv.slice(2), { loads: { type: 'string' }, seconds: { type: 'string' }, 'linger-ms': { type: 'string' } });
    if (o.help) {
      console.log(
        `usage: node benchmarks/latency.mjs [options]\n${COMMON_USAGE}\n  --loads a,b,c offered events/s (default ${DEFAULT_LOADS.join(',')})\n  --seconds S   measured seconds per load (default 10; --quick 1.5)\n  --linger-ms M sealog batch.linger_ms (default ${SEALOG_BATCH.linger_ms}, the daemon's default)`,
      );
    } else {
      const lingerMs = o['linger-ms'] === undefined ? undefined : Number(o['linger-ms']);
      const res = await runLatency(latencyOptions({ ...o, loads: o.loads?.split(',').map(Number), seconds: o.seconds && Number(o.seconds), lingerMs }));
      printLatency(res);
      return Object.values(res.summary).every((s) => s.allChecksOk) ? 0 : 1;
    }
  });
}
