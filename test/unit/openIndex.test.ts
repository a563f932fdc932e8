import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { emptyFilter, type Filter } from '../../src/read/filter.js';
import { query } from '../../src/read/query.js';
import { defaultIndex } from '../../src/read/segmentIndex.js';
import { openTrail, type Trail } from '../../src/read/trail.js';
import { writeLog } from '../helpers/writeLog.js';

// The open segment (no manifest yet: the one a live daemon appends to) is indexed in memory
// as its frames commit: the same results as reading every frame, fewer frames read for a
// selective filter, and frames committed after the index was made are still read.
const N = 3000;
const T0 = Date.UTC(2026, 0, 5);
let dir: string;
let data: string;
let openSeg: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealog-openindex-'));
  data = join(dir, 'data');
  await writeLog(
    data,
    N,
    (i) => ({
      event: { correlation_id: `run-${Math.floor(i / 100)}`, i, note: `word${i % 13}` },
      stream: i % 7 ? 'application' : 'audit',
      level: i % 11 ? 'info' : 'warn',
      type: i % 3 ? 'AgentEvent' : 'ToolEvent',
    }),
    { batch: 50, segmentBytes: 1 << 30, checkpointEvery: 1000, tsOf: (i) => T0 + i * 1000 },
  );
  // One segment, made the open one: its manifest not written yet.
  const segs = readdirSync(join(data, 'segments'));
  openSeg = join(data, 'segments', segs.find((f) => f.endsWith('.seg.lz4'))!);
  for (const f of segs) if (f.endsWith('.manifest')) rmSync(join(data, 'segments', f));
  assert.equal((await openTrail(data).segments())[0]!.open, true);
});

after(() => rmSync(dir, { recursive: true, force: true }));

const filters: [string, Partial<Filter>][] = [
  ['correlation_id', { fields: [{ path: 'event.correlation_id', value: 'run-17' }] }],
  ['stream', { streams: ['audit'] }],
  ['level', { level: 'warn' }],
  ['type', { types: ['Tool*'] }],
  ['time', { since: T0 + 1_000_000, until: T0 + 1_100_000 }],
  ['combined', { streams: ['application'], fields: [{ path: 'event.correlation_id', value: 'run-3' }], level: 'info' }],
  ['seq and text', { seqFrom: 100, seqTo: 2500, text: 'word5' }],
];

async function run(trail: Trail, f: Partial<Filter>, opts: { index?: false; reverse?: boolean } = {}) {
  let frames = 0;
  const seqs: number[] = [];
  for await (const r of query(trail, { filter: { ...emptyFilter(), ...f }, ...opts, onProgress: (p) => (frames = p.frames) })) seqs.push(r.seq);
  return { seqs, frames };
}

test('the open segment: the same results with its in-memory index as reading every frame, forward and reverse', async () => {
  const trail = openTrail(data);
  const total = (await trail.frames((await trail.segments())[0]!)).length;
  for (const [name, f] of filters)
    for (const reverse of [false, true]) {
      const plain = await run(openTrail(data), f, { index: false, reverse });
      const indexed = await run(trail, f, { reverse });
      assert.deepEqual(indexed.seqs, plain.seqs, name);
      assert.ok(plain.seqs.length > 0, `${name} matches something`);
    }
  const one = await run(trail, filters[0]![1]);
  assert.ok(one.frames <= 3 && total >= 50, `one correlation_id read ${one.frames} of ${total} frames`);
});

test('frames committed after the open index was made are read and indexed too', async () => {
  const full = statSync(openSeg).size;
  const keep = join(dir, 'full.seg');
  copyFileSync(openSeg, keep);
  const trail = openTrail(data);
  const seg = (await trail.segments())[0]!;
  const frames = await trail.frames(seg);
  const half = frames[Math.floor(frames.length / 2)]!.offset;
  // A fresh trail sees the segment as it was when half its frames had committed.
  truncateSync(openSeg, half);
  const early = openTrail(data);
  const f = filters[0]![1];
  const before = await run(early, f);
  copyFileSync(keep, openSeg);
  assert.equal(statSync(openSeg).size, full);
  const after = await run(early, f);
  assert.deepEqual(after.seqs, (await run(openTrail(data), f, { index: false })).seqs);
  assert.ok(after.seqs.length > before.seqs.length, 'more records once more frames committed');
  const ix = await defaultIndex(early).get((await early.segments())[0]!);
  assert.equal(ix?.frames.length, frames.length, 'the index grew to every frame');
});
