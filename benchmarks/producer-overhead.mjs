#!/usr/bin/env node
// 3. Producer overhead: what a producer pays to send its events to sealog.
//
// A simulated agent workflow (as a LlamaIndex workflow streaming its events
// would run) is timed with and without sending its events to a running sealog
// daemon. Each step does CPU work of the size of a real step's local work:
// parse the JSON responses of a few tool calls, assemble the next prompt from
// their retrieved chunks, hash the prompt for a cache key, scan it with a few
// regular expressions and count its words. It builds EVENTS_PER_STEP events
// in every mode (the framework emits them either way); the modes differ in
// what is done with them: nothing, JSON.stringify only (the floor any sender
// pays), sealog/client (stringify into a ring; a worker thread owns the
// socket and reads the acks), or a hand-written sink on the main thread that
// writes to the socket and parses acks as they come. Steps are async and
// yield to the event loop between them.
//
// Percent-level differences drown in the noise of a shared 2-core machine, so
// the workflow runs as many short blocks, one per mode, in rotating order on
// one connection per sink. Besides wall time, the main thread's own CPU time
// is read from /proc/self/task/<tid>/schedstat (Node 20 has no
// process.threadCpuUsage): the client's worker runs on another thread, and
// what the producer's thread pays is what the goal is about.
//
// usage: node benchmarks/producer-overhead.mjs [--rounds K] [--block-steps S] [--quick]
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SealogClient } from '../dist/src/client/index.js';
import { makeEventObjects, mulberry32 } from './lib/events.mjs';
import { isMain, machine, machineLine } from './lib/machine.mjs';
import { COMMON_USAGE, parseOptions } from './lib/options.mjs';
import { runMain, connectUnix, readProcStats, removeTempDir, startCopier, startSealog, stopProcess } from './lib/proc.mjs';
import { fmtNum, markdownTable, stat, textTable } from './lib/stats.mjs';
import { SEALOG_BATCH, daemonProblems } from './lib/systems.mjs';

export const EVENTS_PER_STEP = 5;
const RESPONSES_PER_STEP = 4;

/** Model responses to parse: arrays of retrieved chunks with titles, text and scores. */
function makeResponses(seed, count = 16) {
  const rnd = mulberry32(seed);
  const words =
    'the validation of computerized systems under GAMP 5 requires risk based assessment ALCOA data integrity audit trail electronic records 21 CFR Part 11 supplier evidence test protocol requirement traceability'.split(
      ' ',
    );
  const text = (n) => Array.from({ length: n }, () => words[Math.floor(rnd() * words.length)]).join(' ');
  return Array.from({ length: count }, (_, k) =>
    JSON.stringify({
      id: `resp-${k}`,
      model: 'gpt-4.1-mini',
      usage: { prompt_tokens: 3000 + k, completion_tokens: 400 },
      chunks: Array.from({ length: 24 }, (_, i) => ({ doc: `URS-${100 + i}`, title: text(6), text: text(100), score: rnd() })),
    }),
  );
}

const TERMS = [/\bGAMP\s*\d\b/g, /\bALCOA\b/g, /\b21 CFR Part 11\b/g, /\bvalidation\b/gi];

/**
 * One step's CPU work: parse the responses of RESPONSES_PER_STEP tool calls,
 * assemble the next prompt from their chunks, hash it for a cache key, scan it
 * for regulatory terms and count its words (a rerank's term frequencies).
 * Returns something derived from all of it so none of it is dead code.
 */
function stepWork(responses, i) {
  let prompt = 'You are a GAMP 5 categorization agent. Use only the context below.\n';
  for (let k = 0; k < RESPONSES_PER_STEP; k++) {
    const r = JSON.parse(responses[(i + k) % responses.length]);
    for (const c of r.chunks) if (c.score > 0.2) prompt += `### ${c.doc}: ${c.title}\n${c.text}\n`;
  }
  const key = createHash('sha256').update(prompt).digest('hex');
  let hits = 0;
  for (const re of TERMS) hits += prompt.match(re)?.length ?? 0;
  const tf = new Map();
  for (const w of prompt.toLowerCase().split(/\W+/)) tf.set(w, (tf.get(w) ?? 0) + 1);
  return key.length + hits + tf.size;
}

/**
 * The raw socket sink: a producer's connection to sealog written by hand on
 * the main thread, acks read as they come; every event is written as it is
 * emitted (the writes of one tick in one syscall). It keeps `inBandSec`, the wall time the
 * producer's thread spends inside the sink (stringify, write, the flush that
 * issues the syscall, reading acks).
 */
async function openSink(socketPath, { acks = true } = {}) {
  const sock = await connectUnix(socketPath);
  const sink = { committed: 0, sent: 0, inBandSec: 0 };
  let pending = '';
  sink.done = new Promise((resolve, reject) => {
    sock.on('error', reject);
    sock.setEncoding('utf8');
    sock.on('data', (d) => {
      const t = performance.now();
      pending += d;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const a = JSON.parse(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
        if (a.ack === 'commit') sink.committed += a.count;
        else if (a.ack === 'rejected') reject(new Error(`rejected: ${a.code} ${a.reason}`));
      }
      sink.inBandSec += (performance.now() - t) / 1000;
    });
    sock.on('end', () => resolve());
  });
  sink.done.catch(() => {}); // awaited in close()
  let buf = '';
  let scheduled = false;
  const flush = () => {
    const t = performance.now();
    scheduled = false;
    if (buf) sock.write(buf);
    buf = '';
    sink.inBandSec += (performance.now() - t) / 1000;
  };
  sink.emit = (ev) => {
    const t = performance.now();
    buf += JSON.stringify(ev) + '\n';
    sink.sent++;
    if (!scheduled) {
      scheduled = true;
      process.nextTick(flush);
    }
    sink.inBandSec += (performance.now() - t) / 1000;
  };
  /** Half-close and wait for the last ack; resolves the drain time in seconds. */
  sink.close = async () => {
    const t = performance.now();
    flush();
    sock.end();
    await sink.done;
    if (acks && sink.committed !== sink.sent) throw new Error(`${sink.committed} of ${sink.sent} events committed`);
    return (performance.now() - t) / 1000;
  };
  if (acks) sock.write('{"$sealog":{"ack":true}}\n');
  return sink;
}

/** sealog/client behind the sink interface; in-band = the time inside send(). */
async function openClient(socketPath) {
  const client = await SealogClient.connect({ socket: socketPath });
  const sink = { sent: 0, inBandSec: 0 };
  sink.emit = (ev) => {
    const t = performance.now();
    client.send(ev);
    sink.sent++;
    sink.inBandSec += (performance.now() - t) / 1000;
  };
  /** flush() and close: resolves the drain time in seconds; rejects unless every event is committed. */
  sink.close = async () => {
    const t = performance.now();
    await client.close();
    return (performance.now() - t) / 1000;
  };
  return sink;
}

/** The floor: what JSON.stringify of each event alone costs (no sink can pay less). */
function stringifyOnly() {
  const sink = { sent: 0, inBandSec: 0, bytes: 0 };
  sink.emit = (ev) => {
    const t = performance.now();
    sink.bytes += JSON.stringify(ev).length;
    sink.sent++;
    sink.inBandSec += (performance.now() - t) / 1000;
  };
  sink.close = async () => 0;
  return sink;
}

/** CPU seconds of this thread alone (the main thread: its tid is the pid). */
const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;
function mainThreadCpuSec() {
  return Number(readFileSync(SCHEDSTAT, 'latin1').split(' ', 1)[0]) / 1e9;
}

/**
 * One block of the workflow: `steps` steps; with a sink, every event is sent.
 * Returns { wallSec, cpuSec (process), mainCpuSec (main thread), inBandSec, events, checksum }.
 */
async function block(steps, first, responses, pool, sink) {
  const c0 = process.cpuUsage();
  const m0 = mainThreadCpuSec();
  const b0 = sink?.inBandSec ?? 0;
  const t0 = performance.now();
  let checksum = 0;
  let events = 0;
  for (let i = first; i < first + steps; i++) {
    checksum += stepWork(responses, i);
    for (let e = 0; e < EVENTS_PER_STEP; e++) {
      // The framework builds the event in both modes.
      const ev = { ...pool[(i * EVENTS_PER_STEP + e) % pool.length], step: i, seq_in_step: e };
      events++;
      if (sink) sink.emit(ev);
      else checksum += ev.step & 1;
    }
    await new Promise(setImmediate); // steps are async: let I/O (writes, acks) run
  }
  const t1 = performance.now();
  const c = process.cpuUsage(c0);
  const mainCpuSec = mainThreadCpuSec() - m0;
  return { wallSec: (t1 - t0) / 1000, cpuSec: (c.user + c.system) / 1e6, mainCpuSec, inBandSec: (sink?.inBandSec ?? 0) - b0, events, checksum };
}

export const PRODUCER_METHOD = (p, env) => [
  `workflow  async steps, each: JSON.parse of ${RESPONSES_PER_STEP} tool responses of ~${(p.responseBytes / 1024).toFixed(0)} KiB, prompt assembly, SHA-256, 4 regex scans, word counts (mean ${p.stepMs.toFixed(2)} ms)`,
  `events    ${EVENTS_PER_STEP} seeded ~300-byte events per step (~${fmtNum((EVENTS_PER_STEP * 1000) / p.stepMs)} events/s), built in every mode`,
  `modes     without: built, not sent; stringify only: JSON.stringify of each event and nothing else (the floor);`,
  `          sealog/client: client.send() (stringify into a SharedArrayBuffer ring; its worker thread writes every ${CLIENT_LINGER_MS} ms and reads acks), flushed and closed at the end;`,
  `          raw socket: a hand-written sink on the main thread, JSON.stringify + socket.write (corked per tick), acks parsed as they come;`,
  `          null server: the raw sink writing to the Node copier writing to /dev/null (what sending costs when the server costs nothing);`,
  `          acks on for sealog, never waited for during the run; sealog fsyncs per batch`,
  `runs      ${p.rounds} rounds of ${p.blockSteps}-step blocks, one block per mode, order rotated and reversed from round to round (drift cancels),`,
  `          after a warm-up round; one connection per sink for the whole measurement; ${fmtNum(p.rounds * PRODUCER_MODES.length * p.blockSteps)} steps in all`,
  `overhead  wall: sum over blocks of the mode / sum over "without" blocks - 1, and the median and range of per-round ratios;`,
  `          main-thread CPU (/proc/self/task/<pid>/schedstat) likewise: the producer's own thread, without the client's worker;`,
  `          process CPU (process.cpuUsage, all threads) likewise; in-band: wall time inside the sink's emit / workflow time without sending`,
  `machine   ${machineLine(env)}`,
];

/** Modes of a round; every one but 'without' handles each event. */
export const PRODUCER_MODES = ['without', 'stringify', 'sealog', 'sealog-raw', 'null'];
const CLIENT_LINGER_MS = 20; // the client's default
const MODE_NAMES = {
  stringify: 'JSON.stringify only (floor)',
  sealog: 'sealog/client',
  'sealog-raw': 'sealog, raw socket sink',
  null: 'null server, raw socket sink',
};

export async function runProducerOverhead(o, { log = console.log } = {}) {
  // Short blocks, many rounds: neighbouring blocks see the same machine, and
  // the median of per-round ratios shrugs off the bursts of other load.
  const blockSteps = o.blockSteps ?? (o.quick ? 25 : 50);
  const rounds = o.rounds ?? (o.quick ? 4 : Math.max(48, o.runs * 16));
  const responses = makeResponses(o.seed);
  const pool = makeEventObjects(4096, o.seed + 1);
  const env = machine();
  const d = await startSealog({ fsync: { mode: 'batch' }, batch: SEALOG_BATCH });
  const nul = await startCopier({ outFile: '/dev/null' });
  try {
    const sinks = {
      stringify: stringifyOnly(),
      sealog: await openClient(d.socketPath),
      'sealog-raw': await openSink(d.socketPath),
      null: await openSink(nul.socketPath, { acks: false }),
    };
    let step = 0;
    const run = async (mode) => {
      const r = await block(blockSteps, step, responses, pool, sinks[mode]);
      step += blockSteps;
      return r;
    };
    for (const mode of PRODUCER_MODES) await run(mode); // warm-up: JIT every path before anything counts
    const daemonCpu0 = readProcStats(d.child.pid)?.cpuSec ?? 0;
    const results = [];
    for (let k = 0; k < rounds; k++) {
      const n = PRODUCER_MODES.length;
      const rot = [...PRODUCER_MODES.slice(k % n), ...PRODUCER_MODES.slice(0, k % n)];
      const order = Math.floor(k / n) % 2 ? rot.reverse() : rot;
      const round = { round: k + 1, order };
      for (const mode of order) round[mode] = await run(mode);
      results.push(round);
    }
    const daemonCpuSec = (readProcStats(d.child.pid)?.cpuSec ?? 0) - daemonCpu0;
    const drainSec = await sinks.sealog.close();
    await sinks['sealog-raw'].close();
    await sinks.null.close();
    const sum = (mode, f) => results.reduce((a, r) => a + r[mode][f], 0);
    const without = sum('without', 'wallSec');
    const params = { rounds, blockSteps, eventsPerStep: EVENTS_PER_STEP, responseBytes: responses[0].length, stepMs: (without / (rounds * blockSteps)) * 1000 };
    log(['3. producer overhead', ...PRODUCER_METHOD(params, env).map((l) => '  ' + l)].join('\n'));

    const exit = await stopProcess(d.child, 60_000);
    await stopProcess(nul.child, 10_000).catch(() => {});
    const problems = daemonProblems(d.child.stderrText());
    const check =
      exit.code !== 0 ? `FAIL: daemon exit ${exit.code ?? exit.signal}` : problems.length ? `FAIL: daemon logged ${problems[0].slice(0, 200)}` : 'ok';
    const sealogEvents = sum('sealog', 'events') + sum('sealog-raw', 'events');
    const summary = {
      drainSec,
      check,
      // The daemon's CPU per event at this rate: on a 2-core machine it is
      // taken from the same cores the producer runs on.
      daemonCpuUsPerEvent: (daemonCpuSec / sealogEvents) * 1e6,
      daemonCpuPct: (daemonCpuSec / results.reduce((a, r) => a + PRODUCER_MODES.reduce((b, m) => b + r[m].wallSec, 0), 0)) * 100,
    };
    for (const mode of PRODUCER_MODES.slice(1)) {
      const events = sum(mode, 'events');
      summary[mode] = {
        wallOverheadPct: (sum(mode, 'wallSec') / without - 1) * 100,
        wallPerRound: stat(results.map((r) => (r[mode].wallSec / r.without.wallSec - 1) * 100)),
        cpuOverheadPct: (sum(mode, 'cpuSec') / sum('without', 'cpuSec') - 1) * 100,
        cpuPerRound: stat(results.map((r) => (r[mode].cpuSec / r.without.cpuSec - 1) * 100)),
        mainCpuOverheadPct: (sum(mode, 'mainCpuSec') / sum('without', 'mainCpuSec') - 1) * 100,
        mainCpuPerRound: stat(results.map((r) => (r[mode].mainCpuSec / r.without.mainCpuSec - 1) * 100)),
        inBandPct: (sum(mode, 'inBandSec') / without) * 100,
        inBandUsPerEvent: (sum(mode, 'inBandSec') / events) * 1e6,
        eventsPerSec: events / sum(mode, 'wallSec'),
        events,
      };
      const m = summary[mode];
      log(
        `  ${MODE_NAMES[mode].padEnd(32)} wall overhead ${m.wallOverheadPct.toFixed(2)}% (per-round median ${m.wallPerRound.median.toFixed(1)}, ${m.wallPerRound.min.toFixed(1)} to ${m.wallPerRound.max.toFixed(1)}), ` +
          `main-thread CPU ${m.mainCpuOverheadPct.toFixed(2)}% (median ${m.mainCpuPerRound.median.toFixed(1)}), process CPU ${m.cpuOverheadPct.toFixed(2)}%, in-band ${m.inBandPct.toFixed(2)}% (${m.inBandUsPerEvent.toFixed(2)} µs/event)`,
      );
    }
    log(
      `  sealog daemon: ${check}; ${summary.daemonCpuUsPerEvent.toFixed(0)} µs CPU per event (${summary.daemonCpuPct.toFixed(0)}% of a core over the measurement); last ack ${(drainSec * 1000).toFixed(1)} ms after the last step`,
    );
    return { date: new Date().toISOString(), params, machine: env, method: PRODUCER_METHOD(params, env), summary, rounds: results };
  } finally {
    if (d.child.exitCode === null) await stopProcess(d.child, 5000).catch(() => {});
    if (nul.child.exitCode === null) await stopProcess(nul.child, 5000).catch(() => {});
    removeTempDir(d.dir);
    removeTempDir(nul.dir);
  }
}

const signedPct = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}%`;
const spread = (st) => (st ? `${signedPct(st.median)} (${st.min.toFixed(0)} to ${st.max.toFixed(0)})` : 'n/a');

/** Results files from before sealog/client have other modes (sealog was the raw sink): not rendered as these. */
export const hasClientModes = (res) => PRODUCER_MODES.every((m) => m === 'without' || res.summary[m]?.mainCpuOverheadPct !== undefined);

export function producerRows(res) {
  const p = res.params;
  if (!hasClientModes(res)) return [['events sent to'], ['(results from before sealog/client: run the producer section again)']];
  const rows = [
    [
      'events sent to',
      'workflow',
      'events/s',
      'wall overhead',
      'per round: median (range)',
      'main-thread CPU overhead',
      'per round: median (range)',
      'process CPU overhead',
      'in-band',
      'in-band µs/event',
      'daemon CPU µs/event',
      'check',
    ],
  ];
  for (const mode of PRODUCER_MODES.slice(1)) {
    const m = res.summary[mode];
    rows.push([
      MODE_NAMES[mode],
      `${fmtNum(p.rounds * p.blockSteps)} steps × ${p.stepMs.toFixed(2)} ms`,
      fmtNum(m.eventsPerSec),
      signedPct(m.wallOverheadPct),
      spread(m.wallPerRound),
      signedPct(m.mainCpuOverheadPct),
      spread(m.mainCpuPerRound),
      signedPct(m.cpuOverheadPct),
      `${m.inBandPct.toFixed(2)}%`,
      m.inBandUsPerEvent.toFixed(2),
      mode.startsWith('sealog') ? res.summary.daemonCpuUsPerEvent.toFixed(0) : '-',
      mode.startsWith('sealog') ? res.summary.check : 'ok',
    ]);
  }
  return rows;
}

export const PRODUCER_NOTES = [
  "overhead = total time of the mode's blocks / total of the interleaved blocks without sending - 1; per round: the same for each round, median and range in percent;",
  "main-thread CPU = the producer thread's own CPU time (schedstat), the cost the goal is about: the client's worker thread runs beside it (on a 2-core machine, on the other core);",
  "process CPU counts every thread. in-band = the producer thread's wall time inside the sink. The older design promised < 5%; the target is < 1%.",
  "On a 2-core machine the daemon's CPU (daemon µs/event) is taken from the cores the producer runs on; the null server shows the cost of sending alone.",
];
export const producerMarkdown = (res) => [markdownTable(producerRows(res)), '', PRODUCER_NOTES.join('\n')].join('\n');
export const printProducer = (res, log = console.log) => log('\n' + textTable(producerRows(res)) + '\n' + PRODUCER_NOTES.join('\n'));

if (isMain(import.meta.url)) {
  await runMain(async () => {
    const o = parseOptions(process.argv.slice(2), { rounds: { type: 'string' }, 'block-steps': { type: 'string' } });
    if (o.help)
      console.log(
        `usage: node benchmarks/producer-overhead.mjs [options]\n${COMMON_USAGE}\n  --rounds K        rounds of one block per mode (default max(48, 16 x runs); --quick 4)\n  --block-steps S   steps per block (default 50; --quick 25)`,
      );
    else {
      const res = await runProducerOverhead({ ...o, rounds: o.rounds && Number(o.rounds), blockSteps: o['block-steps'] && Number(o['block-steps']) });
      printProducer(res);
      return res.summary.check === 'ok' ? 0 : 1;
    }
  });
}
