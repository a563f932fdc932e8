import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jcs } from '../../src/crypto/canonical.js';
import { decodeLines, decodeResult, encodeLines, encodeResults, type PackLine } from '../../src/front/protocol.js';
import { ownDraft, OwnType } from '../../src/ownRecords.js';
import { createSealer } from '../../src/stages/seal.js';
import { eventDigest, packInto, serialize } from '../../src/stages/serialize.js';
import type { AckTarget, Draft, RawLine } from '../../src/types.js';

const ack: AckTarget = { committed() {}, rejected() {}, duplicate() {} };

test('lines cross to the worker whole and in order, with their rare extras, never their ack target', () => {
  const own = ownDraft(OwnType.HOLD_PLACED, { id: 'h1' }, 'info', ack);
  const lines: RawLine[] = [
    { bytes: Buffer.from('{"a":1}'), source: { kind: 'socket', conn: 1, line: 1 }, ack },
    { bytes: Buffer.from('x'.repeat(10)), source: { kind: 'socket' }, oversize: { length: 5000, sha256: 'ab'.repeat(32) } },
    { bytes: Buffer.alloc(0), source: { kind: 'sealog' }, system: own },
    { bytes: Buffer.from('{"b":'), source: { kind: 'spool', file: 'f.jsonl', line: 9 }, unterminated: true },
  ];
  const total = lines.reduce((n, l) => n + l.bytes.length, 0);
  const { message, transfer } = encodeLines(lines, total);
  assert.deepEqual(transfer, [message.bytes.buffer, message.ends.buffer]);
  const back = structuredClone(message, { transfer });
  const got = decodeLines(back);
  assert.equal(got.length, lines.length);
  for (let i = 0; i < lines.length; i++) {
    assert.ok(got[i]!.bytes.equals(lines[i]!.bytes), `line ${i}`);
    assert.equal(got[i]!.source.kind, lines[i]!.source.kind);
    assert.equal(got[i]!.ack, undefined);
  }
  assert.deepEqual(got[1]!.oversize, lines[1]!.oversize);
  assert.equal(got[3]!.unterminated, true);
  assert.equal(got[2]!.system!.type, OwnType.HOLD_PLACED);
  assert.equal(got[2]!.system!.ack, undefined);
  assert.equal(own.ack, ack, 'the caller’s draft keeps its ack target');
});

test('a chunk whose lines share one source kind names it once', () => {
  const lines: RawLine[] = [1, 2, 3].map((line) => ({ bytes: Buffer.from(`{"n":${line}}`), source: { kind: 'spool', file: 'f', line } }));
  const { message, transfer } = encodeLines(
    lines,
    lines.reduce((n, l) => n + l.bytes.length, 0),
  );
  assert.equal(message.kinds, 'spool');
  const got = decodeLines(structuredClone(message, { transfer }));
  assert.deepEqual(
    got.map((l) => [l.bytes.toString(), l.source.kind]),
    lines.map((l) => [l.bytes.toString(), 'spool']),
  );
});

test('results come back to the line the main thread kept: its source and ack target', () => {
  const drafts: Draft[] = [
    // Characters of 2 and 4 bytes: the cuts are byte offsets. An event_id: a dedupe key and digest.
    { source: { kind: 'socket' }, event: { a: 'é 😀', event_id: 'e1' }, redactions: [] },
    {
      source: { kind: 'socket' },
      event: { code: 'E_INVALID_JSON' },
      redactions: [],
      stream: 'rejected',
      level: 'warn',
      type: 'sealog.rejected',
      rejected: { code: 'E_INVALID_JSON', reason: 'bad' },
    },
    { source: { kind: 'socket' }, event: { long: 'x'.repeat(5000) }, redactions: [], meta: { m: 1 } },
  ];
  const kept: RawLine[] = drafts.map((_, i) => ({ bytes: Buffer.from('{}'), source: { kind: 'socket', conn: 3, line: i + 1 }, ack }));
  const packLine: PackLine = (raw, w, cuts, at) => packInto(w, drafts[raw.source.line! - 1]!, true, cuts, at);
  const { message, transfer } = encodeResults(kept, packLine, 16); // a small hint: the buffer grows
  assert.deepEqual(transfer, [message.bytes.buffer, message.cuts.buffer]);
  const m = structuredClone(message, { transfer });
  // The same record sealed from the message's bytes and from the draft serialized on its own: the same line.
  const sealMessage = createSealer({ nextSeq: 5, prev: 'cd'.repeat(32) }, () => '2026-11-23T10:00:00.000000Z');
  const sealOwn = createSealer({ nextSeq: 5, prev: 'cd'.repeat(32) }, () => '2026-11-23T10:00:00.000000Z');
  for (let i = 0; i < drafts.length; i++) {
    const r = decodeResult(m, i, kept[i]!);
    const own = serialize(drafts[i]!, true);
    assert.equal(r.source, kept[i]!.source);
    assert.equal(r.ack, ack);
    assert.deepEqual(r.rejected, drafts[i]!.rejected);
    assert.deepEqual(r.dedupe, own.dedupe);
    const line = sealMessage(r).line.toString();
    assert.equal(line, sealOwn({ ...own, source: kept[i]!.source }).line.toString());
    const record = JSON.parse(line) as Record<string, unknown>;
    assert.deepEqual(record.event, drafts[i]!.event);
    assert.equal(record.type, drafts[i]!.type ?? 'event');
  }
  // The digest of the event's bytes is the digest of its canonical text (what dedupe's replay takes).
  assert.deepEqual(decodeResult(m, 0, kept[0]!).dedupe, { key: 'se1', digest: eventDigest(jcs(drafts[0]!.event)) });
});
