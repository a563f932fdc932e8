#!/usr/bin/env node
// What the event_id dedupe window costs:
//   1. the stage: ns per event that dedupe adds in front of seal, for events
//      with a unique event_id (each is remembered and digested; seal reuses
//      the canonical text dedupe made) and without one, and the heap a full
//      window of max_entries ids holds;
//   2. the start: time from spawn to 'sealog ready' on a log of --events
//      records that all carry an event_id, with dedupe on (the window is
//      rebuilt from the log) and off. Median of --runs.
//
// usage: node benchmarks/dedupe.mjs [--events N] [--runs R]
// Needs a built daemon (npx tsc -p .). Reports figures; asserts nothing.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, SEALOG_BIN, makeTempDir, removeTempDir, runMain } from './lib/proc.mjs';

const { Deduper } = await import(join(ROOT, 'dist/src/stages/dedupe.js'));
const { createSealer } = await import(join(ROOT, 'dist/src/stages/seal.js'));

/** ns per event of seal, with dedupe in front of it or not. */
function sealCost(n, withId, dedupe) {
  const d = new Deduper({ windowMs: 600_000, maxEntries: 100_000, nextSeq: 0 });
  const seal = createSealer({ nextSeq: 0, prev: '0'.repeat(64) }, () => '2026-11-23T12:00:00.000000Z');
  const drafts = Array.from({ length: n }, (_, i) => ({
    source: { kind: 'socket', conn: 1, line: i + 2 },
    event: withId
      ? { event_id: `run-${i}`, type: 'tool.call', agent: 'a1', msg: 'agent called a tool', n: i }
      : { type: 'tool.call', agent: 'a1', msg: 'agent called a tool', n: i },
    redactions: [],
  }));
  const t0 = process.hrtime.bigint();
  if (dedupe) for (const x of drafts) seal(d.stage(x));
  else for (const x of drafts) seal(x);
  return Number(process.hrtime.bigint() - t0) / n;
}

function windowHeap(entries) {
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  const d = new Deduper({ windowMs: 600_000, maxEntries: entries, nextSeq: 0 });
  for (let i = 0; i < entries; i++)
    d.stage({ source: { kind: 'socket' }, event: { event_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` }, redactions: [] });
  globalThis.gc?.();
  const bytes = process.memoryUsage().heapUsed - before;
  return { bytes, perEntry: bytes / d.entries };
}

function startTime(dir, cfg) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(process.execPath, [SEALOG_BIN, 'start', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (b) => {
      err += b;
      if (err.includes('sealog ready') && !p.readyAt) {
        p.readyAt = Number(process.hrtime.bigint() - t0) / 1e6;
        p.kill('SIGTERM');
      }
    });
    p.once('exit', (code) => (code === 0 && p.readyAt ? resolve(p.readyAt) : reject(new Error(`daemon exited ${code}: ${err}`))));
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const { values } = parseArgs({
    options: { events: { type: 'string', default: '200000' }, runs: { type: 'string', default: '3' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(
      "usage: node --expose-gc benchmarks/dedupe.mjs [--events N] [--runs R]\n  the dedupe stage's cost per event (with and without an event_id), per remembered id, and at start over a log of N records",
    );
    return;
  }
  const events = Number(values.events);
  const runs = Number(values.runs);
  sealCost(50_000, true, true); // warm up
  sealCost(50_000, true, false);
  for (const withId of [true, false]) {
    const pairs = Array.from({ length: runs }, () => [sealCost(200_000, withId, false), sealCost(200_000, withId, true)]);
    const alone = median(pairs.map((p) => p[0]));
    const both = median(pairs.map((p) => p[1]));
    console.log(
      `seal ${alone.toFixed(0)} ns/event, dedupe + seal ${both.toFixed(0)} ns/event: +${(both - alone).toFixed(0)} ns ${withId ? 'with a unique event_id' : 'without an event_id'}`,
    );
  }
  const heap = windowHeap(100_000);
  console.log(
    `window of 100,000 ids: ${(heap.bytes / 1048576).toFixed(1)} MiB heap, ${heap.perEntry.toFixed(0)} bytes/id${globalThis.gc ? '' : ' (run with --expose-gc for a steadier figure)'}`,
  );

  const dir = makeTempDir();
  try {
    const base = `data_dir: ${dir}/data\nsocket:\n  path: ${dir}/s.sock\nspool:\n  enabled: false\n  dir: ${dir}/spool\n`;
    const on = join(dir, 'on.yaml');
    const off = join(dir, 'off.yaml');
    writeFileSync(on, base);
    writeFileSync(off, `${base}dedupe:\n  enabled: false\n`);
    const input = join(dir, 'in.jsonl');
    writeFileSync(
      input,
      Array.from({ length: events }, (_, i) => JSON.stringify({ event_id: `run-${i}`, type: 'tool.call', agent: 'a1', n: i })).join('\n') + '\n',
    );
    const d = spawn(process.execPath, [SEALOG_BIN, 'start', '--config', off], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise((r) => d.stderr.on('data', (b) => String(b).includes('sealog ready') && r()));
    const sent = spawnSync(process.execPath, [SEALOG_BIN, 'send', '--socket', `${dir}/s.sock`, '--ack', input], { encoding: 'utf8' });
    if (sent.status !== 0) throw new Error(sent.stderr);
    d.kill('SIGTERM');
    await new Promise((r) => d.once('exit', r));
    const tOff = [];
    const tOn = [];
    for (let i = 0; i < runs; i++) {
      tOff.push(await startTime(dir, off));
      tOn.push(await startTime(dir, on));
    }
    console.log(
      `start on a log of ${events.toLocaleString('en')} records with event_ids: ${median(tOn).toFixed(0)} ms with dedupe (window rebuilt), ${median(tOff).toFixed(0)} ms without (median of ${runs})`,
    );
  } finally {
    removeTempDir(dir);
  }
}

runMain(main);
