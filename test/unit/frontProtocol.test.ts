import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeLines, decodeResult, encodeLines, encodeResults } from '../../src/front/protocol.js';
import { ownDraft, OwnType } from '../../src/ownRecords.js';
import { createSealer } from '../../src/stages/seal.js';
import type { AckTarget, RawLine, Serialized } from '../../src/types.js';

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

test('results come back to the line the main thread kept: its source and ack target', () => {
  const results: Serialized[] = [
    {
      source: { kind: 'socket' },
      eventJcs: '{"a":"é 😀"}', // characters of 2 and 4 bytes: the cuts are byte offsets
      metaJcs: '{}',
      redactionsJcs: '[]',
      stream: 'application',
      level: 'info',
      type: 'event',
      rejected: undefined,
      dedupe: { key: 's1', digest: 'd' },
    },
    {
      source: { kind: 'socket' },
      eventJcs: '{"code":"E_INVALID_JSON"}',
      metaJcs: '{}',
      redactionsJcs: '[]',
      stream: 'rejected',
      level: 'warn',
      type: 'sealog.rejected',
      rejected: { code: 'E_INVALID_JSON', reason: 'bad' },
      dedupe: undefined,
    },
  ];
  const kept: RawLine[] = [
    { bytes: Buffer.from('{"a":1}'), source: { kind: 'socket', conn: 3, line: 1 }, ack },
    { bytes: Buffer.from('{'), source: { kind: 'socket', conn: 3, line: 2 }, ack },
  ];
  const { message, transfer } = encodeResults(results, 16); // a small hint: the buffer grows
  assert.deepEqual(transfer, [message.bytes.buffer, message.cuts.buffer]);
  const m = structuredClone(message, { transfer });
  // The same record sealed from the worker's bytes and from the text: the same line.
  const sealBytes = createSealer({ nextSeq: 5, prev: 'cd'.repeat(32) }, () => '2026-11-23T10:00:00.000000Z');
  const sealText = createSealer({ nextSeq: 5, prev: 'cd'.repeat(32) }, () => '2026-11-23T10:00:00.000000Z');
  for (let i = 0; i < results.length; i++) {
    const r = decodeResult(m, i, kept[i]!);
    assert.equal(r.source, kept[i]!.source);
    assert.equal(r.ack, ack);
    assert.deepEqual(r.rejected, results[i]!.rejected);
    assert.deepEqual(r.dedupe, results[i]!.dedupe);
    const line = sealBytes(r).line.toString();
    assert.equal(line, sealText({ ...results[i]!, source: kept[i]!.source }).line.toString());
    const record = JSON.parse(line) as Record<string, unknown>;
    assert.deepEqual(record.event, JSON.parse(results[i]!.eventJcs));
    assert.equal(record.type, results[i]!.type);
  }
});
