#!/usr/bin/env node
// Sinks and the collector (DESIGN §11, docs/collect.md), against the machine's NATS
// JetStream (127.0.0.1:4222) and PostgreSQL (127.0.0.1:5432, user postgres). Three figures:
//
// 1. Forwarding keeps up with ingest: one daemon with a jetstream sink takes N seeded events
//    flat out on one acked connection. Ingest rate = N / (first byte -> last commit ack);
//    sink rate = N / (first byte -> the sink's cursor at the last seq), from `sealog status`
//    polled every 50 ms, with the largest lag seen. Then the sink alone: the same data dir
//    restarted with its cursor removed and a new stream, so it sends all N from disk while
//    nothing is ingested (its catch-up rate).
// 2. collect into PostgreSQL: `sealog collect` on the stream of step 1 (N records plus
//    checkpoints waiting), a fresh database; rate = N / (ready -> next_seq reaches N).
// 3. End to end at a fixed load: daemon + sink + collect running; one acked connection offers
//    --rate events/s open-loop in 10 ms ticks for --seconds; for each commit ack (its last_seq
//    and arrival time) the latency is the first moment a poll of sealog_origins.next_seq
//    (every 5 ms) shows it in PostgreSQL. Percentiles over the events.
//
// Each step also reports the 1-minute load average when it ended (the machine is shared), and
// CPU per record where it can read /proc: the daemon's (step 1), collect's and its PostgreSQL
// backends' (step 2), and the local nats-server's (found by name; steps 1 and 2, which is all
// NATS traffic on this machine, other users' included).
//
// usage: node benchmarks/collect.mjs [--events N] [--rate R] [--seconds S] [--quick]
// Needs a built daemon (npx tsc -p .). Writes benchmarks/results/collect.md (--quick: prints only).
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from 'nats';
import pg from 'pg';
import { stringify } from 'yaml';
import { askDaemon } from '../dist/src/control.js';
import { makeBuffer } from './lib/events.mjs';
import { machine, machineLine } from './lib/machine.mjs';
import {
  ROOT,
  SEALOG_BIN,
  connectUnix,
  makeTempDir,
  probeSocket,
  readProcStats,
  removeTempDir,
  runMain,
  sendBuffer,
  spawnTracked,
  stopProcess,
} from './lib/proc.mjs';
import { fmtNum } from './lib/stats.mjs';

const NATS = 'nats://127.0.0.1:4222';
const PG = 'postgres://postgres@127.0.0.1:5432/postgres';
const { values: a } = parseArgs({ options: { events: { type: 'string' }, rate: { type: 'string' }, seconds: { type: 'string' }, quick: { type: 'boolean' } } });
const N = Number(a.events ?? (a.quick ? 20_000 : 200_000));
const RATE = Number(a.rate ?? 10_000);
const SECONDS = Number(a.seconds ?? (a.quick ? 5 : 20));
const cleanups = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const load1 = () => loadavg()[0].toFixed(1);
/** CPU seconds of the local nats-server so far (undefined when it is not found or not readable). */
function natsCpu() {
  try {
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'nats-server') return readProcStats(pid)?.cpuSec;
    }
  } catch {}
  return undefined;
}
const natsPerRecord = (from, n) => {
  const now = natsCpu();
  return from === undefined || now === undefined ? 'n/a' : `${fmtNum(((now - from) / n) * 1e6)} µs`;
};
const id = () => randomBytes(4).toString('hex');

async function tempDb() {
  const name = `sealog_bench_${id()}`;
  const admin = new pg.Client({ connectionString: PG });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = PG.replace(/\/[^/]*$/, `/${name}`);
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  cleanups.push(async () => {
    await pool.end();
    const c = new pg.Client({ connectionString: PG });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  });
  return { url, pool };
}

function tempStream() {
  const s = { stream: `SEALOG_BENCH_${id()}`, root: `sealogbench${id()}` };
  cleanups.push(async () => {
    const nc = await connect({ servers: NATS });
    await (await nc.jetstreamManager()).streams.delete(s.stream).catch(() => {});
    await nc.close();
  });
  return s;
}

/** A daemon with a jetstream sink; `dir` reuses a data directory. */
async function daemon(s, { dir = makeTempDir(), origin = 'bench/host' } = {}) {
  const socket = join(dir, `s-${id()}.sock`);
  const cfg = {
    data_dir: join(dir, 'data'),
    origin,
    socket: { path: socket },
    spool: { dir: join(dir, 'spool') },
    log: { level: 'warn' },
    http: { enabled: false },
    integrity: { enabled: false },
    checkpoint: { every_seconds: 1 },
    sinks: [{ name: 'central', type: 'jetstream', url: NATS, stream: s.stream, subject_root: s.root }],
  };
  const file = join(dir, `sealog-${id()}.yaml`);
  writeFileSync(file, stringify(cfg));
  const child = spawnTracked([SEALOG_BIN, 'start', '--config', file]);
  const probe = new AbortController();
  await Promise.race([
    probeSocket(socket, probe.signal),
    sleep(30_000).then(() => {
      throw new Error(`daemon not ready: ${child.stderrText()}`);
    }),
  ]).finally(() => probe.abort());
  const ctl = socket.replace(/\.sock$/, '.ctl');
  // The control socket listens a moment after the data socket.
  for (const end = Date.now() + 30_000; ; await sleep(20)) {
    if (
      await askDaemon(ctl, { cmd: 'status' }).then(
        () => true,
        () => false,
      )
    )
      break;
    if (Date.now() > end) throw new Error(`no status from the daemon: ${child.stderrText()}`);
  }
  const status = () => askDaemon(ctl, { cmd: 'status' });
  return { child, dir, socket, status, pub: join(dir, 'data/keys/signing.pub') };
}

async function collect(s, db, keysFile) {
  const child = spawnTracked([
    SEALOG_BIN,
    'collect',
    '--nats',
    NATS,
    '--postgres',
    db.url,
    '--keys',
    keysFile,
    '--stream',
    s.stream,
    '--subject-root',
    s.root,
    '--batch',
    '5000',
  ]);
  for (const end = Date.now() + 30_000; !child.stderrText().includes('sealog collect ready'); await sleep(5))
    if (Date.now() > end) throw new Error(`collect not ready: ${child.stderrText()}`);
  return child;
}

const nextSeq = async (db) => Number((await db.pool.query('SELECT max(next_seq) AS n FROM sealog_origins')).rows[0].n ?? 0);

async function forwarding(input) {
  const s = tempStream();
  const d = await daemon(s);
  const polls = [];
  let polling = true;
  const t0 = performance.now();
  const poller = (async () => {
    while (polling) {
      const r = await d.status();
      polls.push({ t: performance.now(), size: r.log.tree_size, cursor: r.sinks.central.cursor, lag: r.sinks.central.lag_records });
      await sleep(50);
    }
  })();
  const sent = await sendBuffer(await connectUnix(d.socket), input, { lines: N, acks: true });
  const tIngest = sent.endedAt;
  for (;;) {
    const last = polls[polls.length - 1];
    if (last && last.t > tIngest && last.cursor >= N - 1) break;
    await sleep(20);
  }
  polling = false;
  await poller;
  const tSink = polls.find((p) => p.cursor >= N - 1).t;
  const ingestLoad = load1();
  await stopProcess(d.child);
  // The sink alone: the same log, its cursor removed, a new stream; nothing is ingested meanwhile.
  rmSync(join(d.dir, 'data/sinks/central.cursor'));
  const s2 = tempStream();
  const d2 = await daemon(s2, { dir: d.dir });
  const c0 = performance.now();
  const cpu0 = readProcStats(d2.child.pid).cpuSec;
  const nats0 = natsCpu();
  let cursor = -1;
  while (cursor < N - 1) {
    cursor = (await d2.status()).sinks.central.cursor;
    await sleep(20);
  }
  const catchUp = N / ((performance.now() - c0) / 1000);
  const catchUpPerCpu = N / (readProcStats(d2.child.pid).cpuSec - cpu0);
  const catchUpNats = natsPerRecord(nats0, N);
  const catchUpLoad = load1();
  await stopProcess(d2.child);
  return {
    s: s2,
    dir: d.dir,
    pub: d.pub,
    ingest: N / ((tIngest - t0) / 1000),
    sink: N / ((tSink - t0) / 1000),
    afterIngestMs: tSink - tIngest,
    maxLag: Math.max(...polls.map((p) => p.lag)),
    catchUp,
    catchUpPerCpu,
    catchUpNats,
    catchUpLoad,
    load: ingestLoad,
  };
}

async function collectRate(f) {
  const db = await tempDb();
  const keys = join(f.dir, 'collect.keys');
  writeFileSync(keys, (await import('node:fs')).readFileSync(f.pub));
  const c = await collect(f.s, db, keys);
  const t0 = performance.now();
  // CPU of the collector and of its PostgreSQL backends (NATS is shared with others here, not counted).
  const backends = async () =>
    (await db.pool.query('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')).rows.map((r) => r.pid);
  const cpu = (pids) => pids.reduce((sum, pid) => sum + (readProcStats(pid)?.cpuSec ?? 0), 0);
  const seen = new Map();
  const cpu0 = readProcStats(c.pid).cpuSec;
  const nats0 = natsCpu();
  while ((await nextSeq(db)) < N) {
    for (const pid of await backends()) if (!seen.has(pid)) seen.set(pid, cpu([pid]));
    await sleep(20);
  }
  const rate = N / ((performance.now() - t0) / 1000);
  const pgCpu = [...seen].reduce((sum, [pid, start]) => sum + cpu([pid]) - start, 0);
  const collectCpu = readProcStats(c.pid).cpuSec - cpu0;
  const nats = natsPerRecord(nats0, N);
  const load = load1();
  await stopProcess(c);
  const v = spawnTracked([SEALOG_BIN, 'verify', '--postgres', db.url, '--origin', 'bench/host', '--key', f.pub]);
  const code = await new Promise((r) => v.once('exit', r));
  return { rate, verified: code === 0, perCpu: N / (collectCpu + pgCpu), collectCpu, pgCpu, nats, load };
}

async function endToEnd(input) {
  const s = tempStream();
  const db = await tempDb();
  const d = await daemon(s, { origin: 'bench/e2e' });
  const keys = join(d.dir, 'collect.keys');
  writeFileSync(keys, (await import('node:fs')).readFileSync(d.pub));
  const c = await collect(s, db, keys);
  const starts = [0];
  for (let i = input.indexOf(0x0a); i >= 0 && i + 1 < input.length; i = input.indexOf(0x0a, i + 1)) starts.push(i + 1);
  const total = Math.min(RATE * SECONDS, starts.length - 1);
  const sock = await connectUnix(d.socket);
  const acks = [];
  let pending = '';
  sock.setEncoding('utf8');
  sock.on('data', (x) => {
    const now = performance.now();
    pending += x;
    for (let nl; (nl = pending.indexOf('\n')) >= 0; pending = pending.slice(nl + 1)) {
      const ack = JSON.parse(pending.slice(0, nl));
      if (ack.ack === 'commit') acks.push({ seq: ack.last_seq, count: ack.count, t: now });
    }
  });
  sock.write('{"$sealog":{"ack":true}}\n');
  const polls = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const n = await nextSeq(db);
      polls.push({ t: performance.now(), n });
      await sleep(5);
    }
  })();
  const t0 = performance.now();
  for (let sent = 0, tick = 0; sent < total; tick++) {
    const upTo = Math.min(total, Math.round((RATE * (tick + 1)) / 100));
    sock.write(input.subarray(starts[sent], starts[upTo] ?? input.length));
    sent = upTo;
    const wait = t0 + (tick + 1) * 10 - performance.now();
    if (wait > 0) await sleep(wait);
  }
  while (acks.reduce((x, y) => x + y.count, 0) < total) await sleep(10);
  const committedRate = total / ((acks[acks.length - 1].t - t0) / 1000);
  const lastSeq = Math.max(...acks.map((x) => x.seq));
  while (!polls.length || polls[polls.length - 1].n <= lastSeq) await sleep(10);
  polling = false;
  await poller;
  sock.end();
  const lat = [];
  let p = 0;
  for (const ack of acks) {
    while (polls[p].n <= ack.seq) p++;
    for (let i = 0; i < ack.count; i++) lat.push(polls[p].t - ack.t);
  }
  lat.sort((x, y) => x - y);
  const q = (f) => lat[Math.min(lat.length - 1, Math.floor(f * lat.length))];
  await stopProcess(c);
  await stopProcess(d.child);
  removeTempDir(d.dir);
  return { events: total, committedRate, p50: q(0.5), p90: q(0.9), p99: q(0.99), max: lat[lat.length - 1], load: load1() };
}

await runMain(async () => {
  try {
    const env = machine();
    console.log(`collect benchmark: ${fmtNum(N)} events; end to end at ${fmtNum(RATE)} events/s for ${SECONDS} s\nmachine   ${machineLine(env)}`);
    const input = makeBuffer(Math.max(N, RATE * SECONDS), 42);
    const f = await forwarding(input.subarray(0, nthLineEnd(input, N)));
    console.log(
      `1. ingest ${fmtNum(f.ingest)} events/s; sink ${fmtNum(f.sink)} events/s (${(f.sink / f.ingest).toFixed(2)}x ingest), caught up ${fmtNum(f.afterIngestMs)} ms after the last commit, max lag ${fmtNum(f.maxLag)} records; sink alone (catch-up from disk) ${fmtNum(f.catchUp)} events/s (${(f.catchUp / f.ingest).toFixed(2)}x ingest), ${fmtNum(f.catchUpPerCpu)} events per daemon CPU-second, nats-server ${f.catchUpNats} CPU per event; load ${f.load}`,
    );
    const c = await collectRate(f);
    console.log(
      `2. collect ${fmtNum(c.rate)} records/s into PostgreSQL (goal >= 50,000), ${fmtNum(c.perCpu)} records per CPU-second (collect ${c.collectCpu.toFixed(1)} s + PostgreSQL backends ${c.pgCpu.toFixed(1)} s), nats-server ${c.nats} CPU per record, verify --postgres ${c.verified ? 'INTACT' : 'FAILED'}; load ${c.load}`,
    );
    removeTempDir(f.dir);
    const e = await endToEnd(input);
    console.log(
      `3. commit -> row in PostgreSQL at ${fmtNum(RATE)} events/s, ${fmtNum(e.events)} events: p50 ${fmtNum(e.p50)} ms, p90 ${fmtNum(e.p90)} ms, p99 ${fmtNum(e.p99)} ms, max ${fmtNum(e.max)} ms (goal p99 < 1000 ms); committed ${fmtNum(e.committedRate)} events/s; load ${e.load}`,
    );
    if (!a.quick) {
      mkdirSync(join(ROOT, 'benchmarks/results'), { recursive: true });
      writeFileSync(
        join(ROOT, 'benchmarks/results/collect.md'),
        `# Sinks and the collector\n\nCommand: \`node benchmarks/collect.mjs --events ${N} --rate ${RATE} --seconds ${SECONDS}\` (method: the comment at the top of benchmarks/collect.mjs).\nMachine: ${machineLine(env)}; NATS and PostgreSQL on the same machine. Wall-clock rates depend on what else runs (see the load average); the per-CPU-second figures much less.\n\n` +
          `| figure | measured | goal |\n| --- | --- | --- |\n` +
          `| daemon ingest, flat out (one acked connection) | ${fmtNum(f.ingest)} events/s | |\n` +
          `| jetstream sink while ingesting | ${fmtNum(f.sink)} events/s = ${(f.sink / f.ingest).toFixed(2)}x ingest; caught up ${fmtNum(f.afterIngestMs)} ms after the last commit; max lag ${fmtNum(f.maxLag)} records (load ${f.load}) | >= 1.0x, lag bounded |\n` +
          `| jetstream sink alone (catch-up from disk) | ${fmtNum(f.catchUp)} events/s = ${(f.catchUp / f.ingest).toFixed(2)}x ingest; ${fmtNum(f.catchUpPerCpu)} events per daemon CPU-second; nats-server ${f.catchUpNats} CPU per event (load ${f.catchUpLoad}) | |\n` +
          `| sealog collect into PostgreSQL | ${fmtNum(c.rate)} records/s; ${fmtNum(c.perCpu)} records per CPU-second of collect + its PostgreSQL backends; nats-server ${c.nats} CPU per record (verify --postgres ${c.verified ? 'INTACT' : 'FAILED'}; load ${c.load}) | >= 50,000 |\n` +
          `| commit -> row in PostgreSQL at ${fmtNum(RATE)} events/s offered (${fmtNum(e.committedRate)}/s committed) | p50 ${fmtNum(e.p50)} ms, p90 ${fmtNum(e.p90)} ms, p99 ${fmtNum(e.p99)} ms, max ${fmtNum(e.max)} ms (load ${e.load}) | p99 < 1,000 ms |\n`,
      );
    }
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  }
});

function nthLineEnd(buf, n) {
  let at = -1;
  for (let i = 0; i < n; i++) at = buf.indexOf(0x0a, at + 1);
  return at + 1;
}
