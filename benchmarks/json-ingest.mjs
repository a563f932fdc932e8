#!/usr/bin/env node
// Spool ingest of whole JSON documents: the same events as one .json array and
// as one .jsonl file, each dropped into a fresh daemon's spool, timed from the
// rename to the file's arrival in spool/done/ (every element sealed and the
// file's ingested record durable). Runs interleaved; medians and the in-run
// ratio (goal: .json >= 0.8x .jsonl). --big GB: also one array of that size
// written from a generator, for peak RSS (goal < 256 MB for 2 GB).
//
// usage: node benchmarks/json-ingest.mjs [--events N] [--runs R] [--seed S] [--quick] [--big GB]
// Needs a built daemon (npx tsc -p .).
import { createWriteStream, existsSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeEvents } from './lib/events.mjs';
import { machine, machineLine } from './lib/machine.mjs';
import { COMMON_USAGE, parseOptions } from './lib/options.mjs';
import { removeTempDir, runMain, sampleProcess, startSealog, stopProcess } from './lib/proc.mjs';
import { countSegmentRecords } from './lib/check.mjs';
import { fmtNum, fmtRatio, stat, textTable } from './lib/stats.mjs';
import { SEALOG_BATCH } from './lib/systems.mjs';

const USAGE = `usage: node benchmarks/json-ingest.mjs [options]\n${COMMON_USAGE}\n  --big GB      also ingest one generated .json array of GB gigabytes (peak RSS)`;

/** Drops `body` (written by `write`) as `name` into a fresh daemon's spool; returns wall time, CPU and peak RSS. */
async function ingestOne(name, write, expected) {
  const d = await startSealog({ fsync: { mode: 'batch' }, batch: SEALOG_BATCH });
  const spool = join(d.dir, 'spool');
  const sampler = sampleProcess(d.child.pid);
  try {
    const tmp = join(spool, `${name}.tmp`);
    await write(tmp);
    const bytes = statSync(tmp).size;
    const cpu0 = sampler.snapshot()?.cpuSec ?? 0;
    const t0 = performance.now();
    renameSync(tmp, join(spool, name));
    const done = join(spool, 'done');
    while (!(existsSync(done) && readdirSync(done).includes(name))) {
      if (d.child.exitCode !== null) throw new Error(`sealog exited during ingest:\n${d.child.stderrText()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const wallSec = (performance.now() - t0) / 1000;
    const s = sampler.snapshot();
    const exit = await stopProcess(d.child, 120_000);
    if (exit.code !== 0) throw new Error(`sealog exited with ${exit.code ?? exit.signal}:\n${d.child.stderrText()}`);
    const rec = await countSegmentRecords(d.dataDir);
    if (rec.error || rec.lines !== expected + 1) throw new Error(`segments hold ${rec.lines} records, expected ${expected + 1} (${rec.error ?? ''})`);
    return { wallSec, cpuSec: s.cpuSec - cpu0, peakRssKiB: s.hwmKiB, bytes };
  } finally {
    sampler.stop();
    if (d.child.exitCode === null) await stopProcess(d.child, 5000).catch(() => {});
    removeTempDir(d.dir);
  }
}

/** Streams `count` events into `path` as a JSON array, never holding more than a chunk of it. */
async function writeArray(path, count, next) {
  const out = createWriteStream(path);
  out.write('[');
  for (let i = 0; i < count; i++) if (!out.write(`${i ? ',\n' : '\n'}${next(i)}`)) await new Promise((r) => out.once('drain', r));
  out.end('\n]\n');
  await new Promise((r) => out.once('close', r));
}

async function main() {
  const o = parseOptions(process.argv.slice(2), { big: { type: 'string' } });
  if (o.help) return console.log(USAGE);
  const events = makeEvents(o.events, o.seed);
  const rows = { jsonl: [], json: [], ratio: [] };
  for (let run = 0; run < o.runs; run++) {
    const order = run % 2 ? ['json', 'jsonl'] : ['jsonl', 'json'];
    const got = {};
    for (const kind of order) {
      got[kind] = await ingestOne(
        `bench.${kind}`,
        kind === 'jsonl' ? (p) => writeFileSync(p, events.join('\n') + '\n') : (p) => writeArray(p, events.length, (i) => events[i]),
        events.length,
      );
    }
    for (const kind of ['jsonl', 'json']) rows[kind].push({ ...got[kind], rate: o.events / got[kind].wallSec });
    rows.ratio.push(rows.json.at(-1).rate / rows.jsonl.at(-1).rate);
  }
  const env = machine();
  console.log('Spool ingest: the same events as one .jsonl file and as one .json array');
  console.log(
    `method    ${fmtNum(o.events)} seeded events (seed ${o.seed}, benchmarks/lib/events.mjs); ${o.runs} runs, kinds interleaved, a fresh daemon each;`,
  );
  console.log('          timed from the rename into the spool to the file in spool/done/ (every event durable, fsync per batch); lz4 record count checked');
  console.log(`machine   ${machineLine(env)}`);
  const r = (k) => stat(rows[k].map((x) => x.rate));
  console.log(
    textTable([
      ['file', 'events/s (median)', 'MB', 'server CPU s', 'peak RSS MiB'],
      ...['jsonl', 'json'].map((k) => [
        `.${k}`,
        fmtNum(r(k).median),
        (rows[k][0].bytes / 1e6).toFixed(1),
        rows[k].map((x) => x.cpuSec.toFixed(1)).join(' / '),
        rows[k].map((x) => (x.peakRssKiB / 1024).toFixed(0)).join(' / '),
      ]),
    ]),
  );
  console.log(`.json / .jsonl rate, in-run: ${fmtRatio(stat(rows.ratio))} (goal >= 0.8)`);
  if (o.big) {
    const gb = Number(o.big);
    const pad = 'x'.repeat(900);
    const count = Math.round((gb * 1e9) / 960);
    const big = await ingestOne('big.json', (p) => writeArray(p, count, (i) => `{"i":${i},"kind":"bulk","pad":"${pad}"}`), count);
    console.log(
      `big array: ${(big.bytes / 1e9).toFixed(2)} GB, ${fmtNum(count)} events in ${big.wallSec.toFixed(0)} s (${fmtNum(count / big.wallSec)} events/s), peak RSS ${(big.peakRssKiB / 1024).toFixed(0)} MiB (goal < 256 MB)`,
    );
  }
}

runMain(main);
