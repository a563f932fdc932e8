import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { emptyFilter } from '../../src/read/filter.js';
import { follow } from '../../src/read/query.js';
import { Chain, openTrail, TrailError, type CheckedFrame, type FrameRef, type SegmentInfo } from '../../src/read/trail.js';
import { LogTail } from '../../src/sinks/logTail.js';
import { writeLog } from '../helpers/writeLog.js';

// A record whose predecessor's segment retention removed is no broken chain (verify checks
// the gap against the removal record): the readers that chain frames across segments
// (trail.records, the sinks' LogTail, query --follow) start a new run after a missing segment,
// and still refuse frames of neighbouring segments that do not continue each other.
const N = 600;
let dir: string;
let data: string;
let kept: number[];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealog-readchain-'));
  data = join(dir, 'data');
  await writeLog(data, N, (i) => ({ event: { i, pad: 'x'.repeat(200) } }), { batch: 20, segmentBytes: 4096, checkpointEvery: 100 });
  const segs = readdirSync(join(data, 'segments'))
    .filter((f) => f.endsWith('.seg.lz4'))
    .sort();
  assert.ok(segs.length >= 5, `several segments (${segs.length})`);
  // What retention does to a segment outside any hold: the segment and its manifest go.
  const gone = segs[2]!.replace('.seg.lz4', '');
  for (const f of readdirSync(join(data, 'segments'))) if (f.startsWith(gone)) rmSync(join(data, 'segments', f));
  const trail = openTrail(data);
  kept = [];
  for (const s of await trail.segments())
    for (const f of await trail.frames(s)) {
      const c = trail.check(s, f, await trail.decode(s, f));
      for (let i = 0; i < c.lines.length; i++) kept.push(c.firstSeq + i);
    }
  assert.ok(kept.length < N && kept[0] === 0, 'a middle segment is gone');
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('trail.records reads across a segment removed by retention', async () => {
  const seqs: number[] = [];
  for await (const r of openTrail(data).records()) seqs.push(r.seq);
  assert.deepEqual(seqs, kept);
});

test("the sinks' LogTail reads across a segment removed by retention", async () => {
  const tail = new LogTail(data, 1 << 24);
  const seqs: number[] = [];
  for (let next = 0; ; ) {
    const got = await tail.read(next, N - 1, 50);
    if (!got.length) break;
    seqs.push(...got.map((r) => r.seq));
    next = got[got.length - 1]!.seq + 1;
  }
  assert.deepEqual(seqs, kept);
});

test('query --follow reads across a segment removed by retention', async () => {
  const seqs: number[] = [];
  for await (const r of follow(openTrail(data), { filter: { ...emptyFilter(), seqTo: N - 1 }, pollMs: 1 })) seqs.push(r.seq);
  assert.deepEqual(seqs, kept);
});

test('Chain: neighbouring segments must continue each other; after a missing segment a new run starts', () => {
  const seg = (n: number): SegmentInfo => ({ n, name: `${n}.seg.lz4`, path: '', bytes: 0, open: false });
  const f: FrameRef = { offset: 0, length: 0, maxDecoded: 0 };
  const frame = (firstSeq: number, count: number, firstPrev: string, lastHash: string): CheckedFrame => ({
    firstSeq,
    lines: Array.from({ length: count }, () => Buffer.alloc(0)),
    hashes: new Uint8Array(32 * count),
    firstPrev,
    lastHash,
  });
  const a = 'a'.repeat(64);
  const b = 'b'.repeat(64);
  const c = new Chain();
  c.link(seg(1), f, frame(0, 10, '0'.repeat(64), a));
  assert.throws(
    () => c.link(seg(2), f, frame(20, 10, a, b)),
    (e: unknown) => e instanceof TrailError && e.finding.code === 'V_SEQ_MISMATCH',
  );
  const d = new Chain();
  d.link(seg(1), f, frame(0, 10, '0'.repeat(64), a));
  assert.throws(
    () => d.link(seg(2), f, frame(10, 10, b, b)),
    (e: unknown) => e instanceof TrailError && e.finding.code === 'V_CHAIN_BROKEN',
  );
  const g = new Chain();
  g.link(seg(1), f, frame(0, 10, '0'.repeat(64), a));
  g.link(seg(3), f, frame(20, 10, b, b)); // segment 2 removed by retention
  assert.throws(
    () => g.link(seg(3), f, frame(31, 10, b, b)),
    (e: unknown) => e instanceof TrailError && e.finding.code === 'V_SEQ_MISMATCH',
  );
});
