import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, copyFileSync, cpSync, readdirSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import canonicalize from 'canonicalize';
import { compressFrameSync, decompressFrameSync } from 'lz4-napi';
import { parseSignerKey, type Signer } from '../src/crypto/keys.js';
import { signNote } from '../src/crypto/note.js';
import { checkpointName, manifestName, segmentName } from '../src/store/layout.js';
import { sealRecord } from './helpers/reseal.js';
import { cli, client, startDaemon, tmp, verify, type Tmp, type VerdictJson } from './helpers/daemon.js';

// The tamper battery: one real log, built once by the daemon; every case copies
// it, changes it the way an attacker (or a bad disk) would, and checks that
// `sealog verify` names exactly what broke and where. Expected seqs, segments
// and byte offsets are derived here from the bytes, by a frame walker of our
// own, not by asking the code under test.

const CONFIG = 'batch:\n  max_records: 5\n  linger_ms: 1\nsegment:\n  max_bytes: 4096\ncheckpoint:\n  every_records: 25\n';
const EVENTS = 200;
const ZERO = '0'.repeat(64);

// ---------------------------------------------------------------- the fixture

/** Varied event shapes (DESIGN §6), deterministic per index. */
function event(i: number): Record<string, unknown> {
  const corr = `req-${i % 9}`;
  switch (i % 6) {
    case 0:
      return {
        event_type: 'GAMPCategorizationEvent',
        gamp_category: 1 + (i % 5),
        confidence_score: (i % 100) / 100,
        correlation_id: corr,
        session_id: `s-${i % 7}`,
        agent_id: 'categorizer',
        i,
      };
    case 1:
      return {
        event_type: 'omninode.logging.application.v1',
        event_id: `e-${i}`,
        tenant_id: 'default',
        payload: { service_name: 'svc', level: i % 2 ? 'warn' : 'info', message: 'm'.repeat(i % 80), context: { n: i } },
        i,
      };
    case 2:
      return {
        event_type: 'omninode.logging.audit.v1',
        event_id: `e-${i}`,
        tenant_id: 't1',
        payload: { action: 'approve', actor: `agent-${i % 4}`, resource: `doc/${i}`, outcome: 'success' },
        i,
      };
    case 3:
      return {
        event_type: i % 12 === 3 ? 'tool_start' : 'tool_end',
        tool_name: 'search',
        agent_name: 'planner',
        trace_id: `tr-${i}`,
        execution_time: i * 0.5,
        success: i % 4 !== 0,
        i,
      };
    case 4:
      return {
        event_type: 'omninode.logging.security.v1',
        payload: { event_type: 'access', user_id: `u${i}`, resource: '/admin', decision: i % 3 ? 'deny' : 'allow' },
        i,
      };
    default:
      return { ticket_id: `T-${i}`, status: 'done', metrics: { steps: i % 13, ratio: 1 / (1 + i) }, trace: ['α', 'β', `ü-${i}`, '日本'], i };
  }
}

/** Runs a daemon over a data dir, commits `count` events with acks, stops it cleanly. */
async function buildLog(t: Tmp, count: number): Promise<void> {
  const d = await startDaemon(t, CONFIG);
  try {
    const c = await client(t.socket);
    await c.send(Array.from({ length: count }, (_, i) => JSON.stringify(event(i))));
    await c.waitFor(() => c.committed >= count, `${count} commits`);
    assert.equal(c.committed, count);
    await c.end();
    assert.equal(await d.stop(), 0, `daemon exit code; stderr:\n${d.stderr()}`);
  } finally {
    if (d.proc.exitCode === null && d.proc.signalCode === null) await d.kill();
  }
}

interface FrameInfo {
  offset: number;
  length: number;
  firstSeq: number;
  count: number;
}
interface SegmentInfo {
  n: number;
  name: string;
  size: number;
  firstSeq: number;
  count: number;
  frames: FrameInfo[];
}
interface LogIndex {
  segments: SegmentInfo[];
  /** Record lines (without "\n") by seq. */
  lines: string[];
  hashes: string[];
  checkpoints: number[];
}

/** Byte spans of the LZ4 frames in a segment (lz4 Frame_format.md), walked independently of src/. */
function frameSpans(buf: Buffer): { offset: number; length: number }[] {
  const spans: { offset: number; length: number }[] = [];
  for (let pos = 0; pos < buf.length; ) {
    assert.equal(buf.readUInt32LE(pos), 0x184d2204, `LZ4 frame magic at byte ${pos}`);
    const flg = buf[pos + 4]!;
    let p = pos + 7 + (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0);
    for (let word; (word = buf.readUInt32LE(p)) !== 0; ) p += 4 + (word & 0x7fffffff) + (flg & 0x10 ? 4 : 0);
    p += 4 + (flg & 0x04 ? 4 : 0);
    spans.push({ offset: pos, length: p - pos });
    pos = p;
  }
  return spans;
}

const frameLines = (raw: Buffer): string[] => decompressFrameSync(raw).toString('utf8').split('\n').slice(0, -1);

/** Where every record of a data dir sits: segment, frame offset, seq. Checks the seqs run gap-free. */
function indexLog(data: string): LogIndex {
  const ix: LogIndex = { segments: [], lines: [], hashes: [], checkpoints: [] };
  for (const name of readdirSync(join(data, 'segments'))
    .filter((f) => f.endsWith('.seg.lz4'))
    .sort()) {
    const buf = readFileSync(join(data, 'segments', name));
    const seg: SegmentInfo = { n: Number(name.slice(0, 10)), name, size: buf.length, firstSeq: ix.lines.length, count: 0, frames: [] };
    for (const span of frameSpans(buf)) {
      const lines = frameLines(buf.subarray(span.offset, span.offset + span.length));
      seg.frames.push({ ...span, firstSeq: ix.lines.length, count: lines.length });
      for (const line of lines) {
        const r = JSON.parse(line) as { seq: number; hash: string };
        assert.equal(r.seq, ix.lines.length, 'fixture seqs run gap-free');
        ix.lines.push(line);
        ix.hashes.push(r.hash);
      }
      seg.count += lines.length;
    }
    ix.segments.push(seg);
  }
  ix.checkpoints = readdirSync(join(data, 'checkpoints'))
    .map((f) => Number(f.slice(0, 20)))
    .sort((a, b) => a - b);
  return ix;
}

interface Fixture {
  log: Tmp;
  ix: LogIndex;
  /** A second, tiny log with its own key. */
  other: Tmp;
  otherIx: LogIndex;
  /** A third key pair, made by `sealog keygen`: an attacker's key. */
  attacker: { pub: string; signer: Signer };
}
let fx: Fixture;
const cleanups: (() => void)[] = [];

before(async () => {
  const log = tmp();
  const other = tmp();
  const keys = tmp();
  cleanups.push(log.cleanup, other.cleanup, keys.cleanup);
  await buildLog(log, EVENTS);
  await buildLog(other, 5);
  const kg = cli(['keygen', '--data', keys.data]);
  assert.equal(kg.code, 0, kg.stderr);
  const signer = parseSignerKey(readFileSync(join(keys.data, 'keys/signing.key'), 'utf8').trim());
  fx = { log, ix: indexLog(log.data), other, otherIx: indexLog(other.data), attacker: { pub: join(keys.data, 'keys/signing.pub'), signer } };

  // The cases below need several segments, checkpoints through the last record, and an inner frame to edit.
  assert.equal(fx.ix.lines.length, EVENTS);
  assert.ok(fx.ix.segments.length >= 5, `fixture has ${fx.ix.segments.length} segments`);
  innerFrame();
  assert.equal(fx.ix.checkpoints.at(-1), EVENTS, 'a clean shutdown seals every record');
});

after(() => {
  for (const c of cleanups) c();
});

// ---------------------------------------------------------------- copies and paths

/** A fresh copy of the fixture's data dir, removed when the test ends. */
function copyLog(t: TestContext): Tmp {
  const c = tmp();
  t.after(c.cleanup);
  cpSync(fx.log.data, c.data, { recursive: true });
  return c;
}

const segFile = (c: Tmp, n: number) => join(c.data, 'segments', segmentName(n));
const manifestFile = (c: Tmp, n: number) => join(c.data, 'segments', manifestName(n));
const ckptFile = (c: Tmp, size: number) => join(c.data, 'checkpoints', checkpointName(size));

const segments = () => fx.ix.segments;
const middleSegment = () => segments()[Math.floor(segments().length / 2)]!;
const lastSegment = () => segments().at(-1)!;
/** A frame of three or more records that does not start its segment, as near the middle of the log as there is one. */
function innerFrame(): { seg: SegmentInfo; frame: FrameInfo } {
  const mid = Math.floor(segments().length / 2);
  for (const seg of [...segments().slice(mid), ...segments().slice(0, mid)]) {
    const frame = seg.frames.find((f) => f.offset > 0 && f.count >= 3);
    if (frame) return { seg, frame };
  }
  const shape = segments()
    .map((s) => s.frames.map((f) => f.count).join('+'))
    .join(' | ');
  assert.fail(`the fixture has no inner frame of three or more records (records per frame: ${shape})`);
}
const segmentOf = (seq: number) => segments().find((s) => seq >= s.firstSeq && seq < s.firstSeq + s.count)!;

// ---------------------------------------------------------------- verify and expectations

/**
 * `sealog verify --json` on a copy, the key pinned to the fixture's own public key unless
 * given; run on one thread and on three (frames checked out of order, in flight together),
 * which must reach the very same verdict.
 */
function check(c: Tmp, extra: string[] = [], key = fx.log.pub): VerdictJson & { exit: number | null } {
  const one = verify({ ...c, pub: key }, [...extra, '--threads', '1']);
  const three = verify({ ...c, pub: key }, [...extra, '--threads', '3']);
  assert.deepEqual(three, one, 'the verdict with --threads 3 is the verdict with --threads 1');
  return one;
}

const codes = (v: VerdictJson) => v.warnings.map((w) => w.code);

type Expected = { code: string; seq?: number; segment?: string; offset?: number; file?: string };

/** Exit 1 and exactly this finding (each field given must match). */
function assertFails(v: VerdictJson & { exit: number | null }, want: Expected): void {
  const got = v.failure;
  assert.ok(got, `expected ${want.code}, verify said ok: ${JSON.stringify(v)}`);
  const picked = Object.fromEntries(Object.keys(want).map((k) => [k, got[k as keyof typeof got]]));
  assert.deepEqual(picked, want, `failure was ${JSON.stringify(got)}`);
  assert.equal(v.ok, false);
  assert.equal(v.exit, 1);
}

function assertIntact(v: VerdictJson & { exit: number | null }, records: number): void {
  assert.equal(v.failure, undefined, `unexpected failure ${JSON.stringify(v.failure)}`);
  assert.equal(v.ok, true);
  assert.equal(v.exit, 0);
  assert.equal(v.records, records);
}

// ---------------------------------------------------------------- tamper kinds

function flipBit(path: string, offset: number, mask: number): void {
  const buf = readFileSync(path);
  buf[offset]! ^= mask;
  writeFileSync(path, buf);
}

/**
 * Rewrites a segment frame by frame: `edit` gets each frame's record lines and
 * returns the lines the frame should hold; frames it leaves unchanged keep their bytes.
 */
function editFrames(path: string, edit: (lines: string[], frame: number) => string[]): void {
  const buf = readFileSync(path);
  const out = frameSpans(buf).map(({ offset, length }, i) => {
    const raw = buf.subarray(offset, offset + length);
    const lines = frameLines(raw);
    const next = edit([...lines], i);
    return next.join('\n') === lines.join('\n') ? raw : compressFrameSync(Buffer.from(next.map((l) => `${l}\n`).join('')), { contentChecksum: true });
  });
  writeFileSync(path, Buffer.concat(out));
}

/** Edits the record lines of the segment frame at `frame` (a FrameInfo from the fixture index). */
function editFrame(c: Tmp, seg: SegmentInfo, frame: FrameInfo, edit: (lines: string[]) => string[]): void {
  const at = seg.frames.indexOf(frame);
  editFrames(segFile(c, seg.n), (lines, i) => (i === at ? edit(lines) : lines));
}

/**
 * A record stored with `seq` moved to the front (not JCS member order), its hash
 * taken over those very bytes: a line a byte-hashing verifier accepts and the
 * format (hash over JCS of the record) does not.
 */
function sealNonCanonical(record: Record<string, unknown>): { line: string; hash: string } {
  const { hash: _drop, seq, ...rest } = record;
  const body = JSON.stringify({ seq, ...rest });
  assert.notEqual(body, canonicalize({ seq, ...rest }), 'precondition: the body is not canonical');
  const hash = createHash('sha256')
    .update(Buffer.from([0]))
    .update(body)
    .digest('hex');
  return { line: `${body.slice(0, -1)},"hash":"${hash}"}`, hash };
}

/** `count` forged records from `seq` on, each hashed by `sealWith`; the first has `prev`, the rest chain to it. */
function forge(seq: number, prev: string, count: number, sealWith = sealRecord): string[] {
  const template = JSON.parse(fx.ix.lines.at(-1)!) as Record<string, unknown>;
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const s = sealWith({ ...template, seq: seq + i, prev, event: { event_type: 'forged', note: 'never happened', i } });
    lines.push(s.line);
    prev = s.hash;
  }
  return lines;
}

const frameOf = (lines: string[]) => compressFrameSync(Buffer.from(lines.map((l) => `${l}\n`).join('')), { contentChecksum: true });

/** Re-seals every record from `seq` on (changing record `seq` with `change`) so the hash chain stays whole. */
function rechainFrom(c: Tmp, seq: number, change: (r: Record<string, unknown>) => void): void {
  let prev = fx.ix.hashes[seq - 1] ?? ZERO;
  for (const s of segments().filter((s) => s.firstSeq + s.count > seq)) {
    editFrames(segFile(c, s.n), (lines) =>
      lines.map((line) => {
        const r = JSON.parse(line) as Record<string, unknown>;
        if ((r.seq as number) < seq) return line;
        if (r.seq === seq) change(r);
        const sealed = sealRecord({ ...r, prev });
        prev = sealed.hash;
        return sealed.line;
      }),
    );
  }
}

/**
 * Rewrites a signed note (checkpoint or manifest): `edit` changes its text; with
 * a signer the note is signed anew by it, else the old signature lines are kept.
 */
function editNote(path: string, edit: (text: string) => string, signer?: Signer): void {
  const s = readFileSync(path, 'utf8');
  const split = s.lastIndexOf('\n\n');
  const text = edit(s.slice(0, split + 1));
  writeFileSync(path, signer ? signNote(text, signer) : `${text}${s.slice(split + 1)}`);
}

// ---------------------------------------------------------------- baseline

test('the untampered log verifies intact, also under --strict', (t) => {
  const c = copyLog(t);
  for (const extra of [[], ['--strict']]) {
    const v = check(c, extra);
    assertIntact(v, EVENTS);
    for (const code of ['V_UNSEALED_TAIL', 'V_NO_CHECKPOINT', 'V_KEY_NOT_PINNED']) assert.ok(!codes(v).includes(code), `${code} in ${codes(v)}`);
  }
});

test('verify without --key says the key was not pinned', (t) => {
  const c = copyLog(t);
  const r = cli(['verify', '--data', c.data, '--json']);
  const v = JSON.parse(r.stdout) as VerdictJson & { keyPinned: boolean };
  assert.equal(r.code, 0, r.stderr);
  assert.equal(v.ok, true);
  assert.equal(v.keyPinned, false);
  assert.ok(codes(v).includes('V_KEY_NOT_PINNED'), `warnings: ${codes(v)}`);
});

// ---------------------------------------------------------------- 1. flipped bits

/** Each flip is "frame F of segment S, byte at F.offset + delta, bit mask". Frames carry content checksums. */
const inner = (delta: (f: FrameInfo) => number, mask: number) => () => {
  const { seg, frame } = innerFrame();
  return { seg, frame, at: frame.offset + delta(frame), mask };
};
const flips: { name: string; where: () => { seg: SegmentInfo; frame: FrameInfo; at: number; mask: number } }[] = [
  { name: "inside a frame's compressed data", where: inner((f) => f.length >> 1, 0x08) },
  { name: 'in a frame header: the magic number', where: inner(() => 0, 0x01) },
  { name: 'in a frame header: the FLG byte', where: inner(() => 4, 0x20) },
  { name: 'in a frame header: the BD byte', where: inner(() => 5, 0x10) },
  { name: 'in a frame header: the header checksum', where: inner(() => 6, 0x80) },
  { name: 'in the last byte of the file', where: () => ({ seg: lastSegment(), frame: lastSegment().frames.at(-1)!, at: lastSegment().size - 1, mask: 0x01 }) },
];
for (const { name, where } of flips) {
  test(`1. a bit flipped ${name} -> V_FRAME_CORRUPT at that frame`, (t) => {
    const c = copyLog(t);
    const { seg, frame, at, mask } = where();
    flipBit(segFile(c, seg.n), at, mask);
    const raw = readFileSync(segFile(c, seg.n)).subarray(frame.offset, frame.offset + frame.length);
    assert.throws(() => decompressFrameSync(raw), 'precondition: the flipped frame no longer decodes');
    assertFails(check(c), { code: 'V_FRAME_CORRUPT', seq: frame.firstSeq, segment: seg.name, offset: frame.offset });
  });
}

// ---------------------------------------------------------------- 2-5. records inside a frame

test('2. a record deleted (frame re-encoded without it) -> V_SEQ_MISMATCH at its seq', (t) => {
  const c = copyLog(t);
  const { seg, frame } = innerFrame();
  editFrame(c, seg, frame, (lines) => lines.filter((_, i) => i !== 1));
  assertFails(check(c), { code: 'V_SEQ_MISMATCH', seq: frame.firstSeq + 1, segment: seg.name, offset: frame.offset });
});

test('3. a record duplicated -> V_SEQ_MISMATCH at the copy', (t) => {
  const c = copyLog(t);
  const { seg, frame } = innerFrame();
  editFrame(c, seg, frame, (lines) => [...lines.slice(0, 2), lines[1]!, ...lines.slice(2)]);
  assertFails(check(c), { code: 'V_SEQ_MISMATCH', seq: frame.firstSeq + 2, segment: seg.name, offset: frame.offset });
});

test('4. two records reordered -> V_SEQ_MISMATCH at the first of them', (t) => {
  const c = copyLog(t);
  const { seg, frame } = innerFrame();
  editFrame(c, seg, frame, ([a, b, ...rest]) => [b!, a!, ...rest]);
  assertFails(check(c), { code: 'V_SEQ_MISMATCH', seq: frame.firstSeq, segment: seg.name, offset: frame.offset });
});

test('5. a forged record inserted, correctly hashed and chained to its predecessor -> V_SEQ_MISMATCH at the next', (t) => {
  const c = copyLog(t);
  const { seg, frame } = innerFrame();
  const seq = frame.firstSeq + 1;
  assert.ok(!fx.ix.checkpoints.includes(seq + 1), 'precondition: no checkpoint ends at the forged record');
  const [forged] = forge(seq, fx.ix.hashes[seq - 1]!, 1);
  editFrame(c, seg, frame, (lines) => [lines[0]!, forged!, ...lines.slice(1)]);
  assertFails(check(c), { code: 'V_SEQ_MISMATCH', seq: seq + 1, segment: seg.name, offset: frame.offset });
});

test('[URS-P11-010] [URS-ALC-050] 5b. a record edited and every later record re-chained -> V_ROOT_MISMATCH at the next checkpoint', (t) => {
  const c = copyLog(t);
  const seq = innerFrame().frame.firstSeq + 1;
  rechainFrom(c, seq, (r) => (r.event = { event_type: 'forged', rewritten: true }));
  const cp = fx.ix.checkpoints.find((n) => n > seq)!;
  const seg = segmentOf(cp - 1);
  const frame = indexLog(c.data)
    .segments.find((s) => s.n === seg.n)!
    .frames.find((f) => cp - 1 < f.firstSeq + f.count)!;
  assertFails(check(c), { code: 'V_ROOT_MISMATCH', seq: cp - 1, segment: seg.name, offset: frame.offset, file: ckptFile(c, cp) });
});

// ---------------------------------------------------------------- 6-8. whole segments

test('6. a middle segment removed -> V_SEGMENT_GAP', (t) => {
  const c = copyLog(t);
  const gone = middleSegment();
  const next = segments()[segments().indexOf(gone) + 1]!;
  rmSync(segFile(c, gone.n));
  const v = check(c);
  assertFails(v, { code: 'V_SEGMENT_GAP', seq: gone.firstSeq, segment: next.name, offset: 0 });
  assert.match(v.failure!.message, new RegExp(segmentName(gone.n).slice(0, 10)));
});

test('6b. the last segment removed with its manifest -> V_TRUNCATED (a checkpoint covers it)', (t) => {
  const c = copyLog(t);
  const last = lastSegment();
  rmSync(segFile(c, last.n));
  rmSync(manifestFile(c, last.n));
  assertFails(check(c), { code: 'V_TRUNCATED', seq: last.firstSeq, segment: segments().at(-2)!.name, file: ckptFile(c, EVENTS) });
});

test('7. two segments swapped (segment and manifest files renamed) -> V_SEQ_MISMATCH at the first swapped', (t) => {
  const c = copyLog(t);
  const a = middleSegment();
  const b = segments()[segments().indexOf(a) + 1]!;
  for (const file of [segFile, manifestFile]) {
    renameSync(file(c, a.n), `${file(c, a.n)}.x`);
    renameSync(file(c, b.n), file(c, a.n));
    renameSync(`${file(c, a.n)}.x`, file(c, b.n));
  }
  assertFails(check(c), { code: 'V_SEQ_MISMATCH', seq: a.firstSeq, segment: a.name, offset: 0 });
});

test("8. a middle segment replaced by another log's segment -> V_SEQ_MISMATCH at its start", (t) => {
  const c = copyLog(t);
  const seg = middleSegment();
  copyFileSync(join(fx.other.data, 'segments', fx.otherIx.segments[0]!.name), segFile(c, seg.n));
  assertFails(check(c), { code: 'V_SEQ_MISMATCH', seq: seg.firstSeq, segment: seg.name, offset: 0 });
});

test("8b. the first segment replaced by another log's first segment (a valid chain from seq 0) -> failure where it stops fitting", (t) => {
  const c = copyLog(t);
  const theirs = fx.otherIx.segments[0]!;
  assert.ok(theirs.count < fx.ix.checkpoints[0]!, 'precondition: no checkpoint of ours falls inside their segment');
  copyFileSync(join(fx.other.data, 'segments', theirs.name), segFile(c, segments()[0]!.n));
  assertFails(check(c), { code: 'V_SEQ_MISMATCH', seq: theirs.count, segment: segments()[1]!.name, offset: 0 });
});

// ---------------------------------------------------------------- 9-11. the tail

test('9. the last frame cut off the last segment, its manifest deleted -> V_TRUNCATED by the checkpoint', (t) => {
  const c = copyLog(t);
  const last = lastSegment();
  const cut = last.frames.at(-1)!;
  truncateSync(segFile(c, last.n), cut.offset);
  rmSync(manifestFile(c, last.n));
  assertFails(check(c), { code: 'V_TRUNCATED', seq: cut.firstSeq, segment: last.name, file: ckptFile(c, EVENTS) });
});

test('10. garbage appended to the last segment -> V_FRAME_CORRUPT at the old end', (t) => {
  const c = copyLog(t);
  const last = lastSegment();
  appendFileSync(segFile(c, last.n), Buffer.from('not a frame \x00\xff\x10 at all\n', 'latin1'));
  assertFails(check(c), { code: 'V_FRAME_CORRUPT', seq: EVENTS, segment: last.name, offset: last.size });
});

test('10b. a torn frame (the first half of a valid frame) appended to the last segment -> V_FRAME_CORRUPT at the old end', (t) => {
  const c = copyLog(t);
  const last = lastSegment();
  const frame = frameOf(forge(EVENTS, fx.ix.hashes.at(-1)!, 3));
  appendFileSync(segFile(c, last.n), frame.subarray(0, frame.length >> 1));
  assertFails(check(c), { code: 'V_FRAME_CORRUPT', seq: EVENTS, segment: last.name, offset: last.size });
});

/** Appends one LZ4 frame of `lines` to the last segment, as a crash leaves it: open, so no manifest yet. */
function appendTail(c: Tmp, lines: string[], keepManifest = false): void {
  const last = lastSegment();
  appendFileSync(segFile(c, last.n), frameOf(lines));
  if (!keepManifest) rmSync(manifestFile(c, last.n));
}

test('11. an appended frame of forged records that do not chain -> V_CHAIN_BROKEN at its first record', (t) => {
  const c = copyLog(t);
  appendTail(c, forge(EVENTS, createHash('sha256').update('not the last hash').digest('hex'), 3));
  assertFails(check(c), { code: 'V_CHAIN_BROKEN', seq: EVENTS, segment: lastSegment().name, offset: lastSegment().size });
});

test('11b. an appended frame of records that do chain -> an unsealed tail: warning, failure under --strict', (t) => {
  const c = copyLog(t);
  appendTail(c, forge(EVENTS, fx.ix.hashes.at(-1)!, 3));
  const v = check(c);
  assertIntact(v, EVENTS + 3);
  assert.ok(
    v.warnings.some((w) => w.code === 'V_UNSEALED_TAIL' && (w as { seq?: number }).seq === EVENTS),
    `warnings: ${JSON.stringify(v.warnings)}`,
  );
  assertFails(check(c, ['--strict']), { code: 'V_UNSEALED_TAIL', seq: EVENTS });
});

test('11c. a chained frame appended to a closed segment whose signed manifest stays -> V_MANIFEST_MISMATCH', (t) => {
  const c = copyLog(t);
  appendTail(c, forge(EVENTS, fx.ix.hashes.at(-1)!, 3), true);
  assertFails(check(c), { code: 'V_MANIFEST_MISMATCH', segment: lastSegment().name, file: manifestFile(c, lastSegment().n) });
});

test('11d. an appended record that chains but is not stored in JCS form -> V_NOT_CANONICAL', (t) => {
  const c = copyLog(t);
  appendTail(c, forge(EVENTS, fx.ix.hashes.at(-1)!, 1, sealNonCanonical));
  assertFails(check(c), { code: 'V_NOT_CANONICAL', seq: EVENTS, segment: lastSegment().name, offset: lastSegment().size });
});

// ---------------------------------------------------------------- 12-14. signatures and keys

const middleCheckpoint = () => fx.ix.checkpoints[Math.floor(fx.ix.checkpoints.length / 2)]!;

test('12. a checkpoint whose size line is edited -> V_CHECKPOINT_SIGNATURE naming the file', (t) => {
  const c = copyLog(t);
  const size = middleCheckpoint();
  editNote(ckptFile(c, size), (text) => text.replace(`\n${size}\n`, `\n${size + 1}\n`));
  assertFails(check(c), { code: 'V_CHECKPOINT_SIGNATURE', file: ckptFile(c, size) });
});

test('12b. a checkpoint whose root is edited -> V_CHECKPOINT_SIGNATURE naming the file', (t) => {
  const c = copyLog(t);
  const size = middleCheckpoint();
  const forgedRoot = createHash('sha256').update('another tree').digest('base64');
  editNote(ckptFile(c, size), (text) => text.replace(/\n[A-Za-z0-9+/=]{44}\n$/, `\n${forgedRoot}\n`));
  assert.ok(readFileSync(ckptFile(c, size), 'utf8').includes(forgedRoot), 'precondition: the root line was replaced');
  assertFails(check(c), { code: 'V_CHECKPOINT_SIGNATURE', file: ckptFile(c, size) });
});

/** Signs every checkpoint and manifest anew with the attacker's key, text unchanged. */
function resignAll(c: Tmp): void {
  for (const size of fx.ix.checkpoints) editNote(ckptFile(c, size), (x) => x, fx.attacker.signer);
  for (const s of segments()) editNote(manifestFile(c, s.n), (x) => x, fx.attacker.signer);
}

test('12c. a checkpoint re-signed with another key -> V_CHECKPOINT_SIGNATURE', (t) => {
  const c = copyLog(t);
  const size = middleCheckpoint();
  editNote(ckptFile(c, size), (x) => x, fx.attacker.signer);
  assertFails(check(c), { code: 'V_CHECKPOINT_SIGNATURE', file: ckptFile(c, size) });

  // Control: the forged notes are well-formed; under the attacker's key, a log signed wholly by it verifies.
  const all = copyLog(t);
  resignAll(all);
  assertIntact(check(all, [], fx.attacker.pub), EVENTS);
});

test('13. a manifest edited -> V_MANIFEST_SIGNATURE', (t) => {
  const c = copyLog(t);
  const seg = middleSegment();
  editNote(manifestFile(c, seg.n), (text) => {
    const m = JSON.parse(text) as Record<string, unknown>;
    return `${canonicalize({ ...m, bytes: (m.bytes as number) + 1 })}\n`;
  });
  assertFails(check(c), { code: 'V_MANIFEST_SIGNATURE', segment: seg.name, file: manifestFile(c, seg.n) });
});

test('13b. a manifest signed by another key -> V_MANIFEST_SIGNATURE', (t) => {
  const c = copyLog(t);
  const seg = middleSegment();
  editNote(manifestFile(c, seg.n), (x) => x, fx.attacker.signer);
  assertFails(check(c), { code: 'V_MANIFEST_SIGNATURE', segment: seg.name, file: manifestFile(c, seg.n) });
});

test('14. a wrong --key -> V_CHECKPOINT_SIGNATURE on the first checkpoint', (t) => {
  const c = copyLog(t);
  assertFails(check(c, [], fx.attacker.pub), { code: 'V_CHECKPOINT_SIGNATURE', file: ckptFile(c, fx.ix.checkpoints[0]!) });
});

// ---------------------------------------------------------------- 15. rollback

test('15. rollback of the newest segment and every checkpoint covering it: passes alone, V_TRUNCATED against a saved checkpoint', (t) => {
  const c = copyLog(t);
  const last = lastSegment();
  const saved = join(c.dir, 'witness.ckpt');
  copyFileSync(ckptFile(c, EVENTS), saved);
  rmSync(segFile(c, last.n));
  rmSync(manifestFile(c, last.n));
  for (const size of fx.ix.checkpoints.filter((n) => n > last.firstSeq)) rmSync(ckptFile(c, size));

  assertIntact(check(c), last.firstSeq);
  assertFails(check(c, ['--checkpoint', saved]), { code: 'V_TRUNCATED', seq: last.firstSeq, segment: segments().at(-2)!.name, file: saved });
});
