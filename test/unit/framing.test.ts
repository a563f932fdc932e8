import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { compressFrameSync } from 'lz4-napi';
import { ErrorCode } from '../../src/errors.js';
import { LineSplitter } from '../../src/sources/lineSplitter.js';
import { scanFrame, decodeFrame } from '../../src/store/lz4frames.js';

// The same input at every chunk size must frame to the same lines.
const CHUNK_SIZES = [1, 2, 3, 5, 64 * 1024];

function frameAll(input: Buffer, chunk: number, max: number) {
  const s = new LineSplitter(max, 8);
  const out = [];
  for (let i = 0; i < input.length; i += chunk) out.push(...s.push(input.subarray(i, i + chunk)));
  const last = s.end();
  if (last) out.push(last);
  return out.map((l) => (l.oversize ? `OVER ${l.oversize.length} ${l.oversize.sha256} ${l.bytes}` : l.bytes.toString('latin1')));
}

test('line framing is the same at chunk sizes 1, 2, 3, 5 and 64 KiB', () => {
  const long = 'x'.repeat(100);
  const input = Buffer.from(`{"a":1}\n{"b":"crlf"}\r\n\n  \n{"c":"é😀"}\n${long}\n{"d":4}\n{"tail":"no newline"}`);
  const expected = [
    '{"a":1}',
    '{"b":"crlf"}',
    '',
    '  ',
    Buffer.from('{"c":"é😀"}').toString('latin1'),
    `OVER 100 ${createHash('sha256').update(long).digest('hex')} xxxxxxxx`,
    '{"d":4}',
    '{"tail":"no newline"}',
  ];
  for (const size of CHUNK_SIZES) assert.deepEqual(frameAll(input, size, 64), expected, `chunk size ${size}`);
});

test('an oversize line is never buffered beyond the limit', () => {
  const s = new LineSplitter(1024, 16);
  for (let i = 0; i < 1000; i++) s.push(Buffer.alloc(4096, 0x61));
  assert.equal(s.held, 16, 'only the head of the line is held');
  const [l] = s.push(Buffer.from('\n'));
  assert.equal(l!.oversize!.length, 4096 * 1000);
  assert.equal(l!.bytes.length, 16);
});

test('load/next frames one line at a time and counts the bytes it holds', () => {
  const s = new LineSplitter(1024);
  s.load(Buffer.from('{"a":1}\n{"b":2}\n{"c"'));
  assert.equal(s.held, 20);
  assert.equal(s.next()!.bytes.toString(), '{"a":1}');
  assert.equal(s.held, 12, 'the rest of the chunk');
  assert.equal(s.next()!.bytes.toString(), '{"b":2}');
  assert.equal(s.next(), undefined);
  assert.equal(s.held, 4, 'the line begun');
  s.load(Buffer.from(':3}\n'));
  assert.equal(s.next()!.bytes.toString(), '{"c":3}');
  assert.equal(s.held, 0);
});

test('scanFrame measures whole frames, flags cut ones as incomplete and junk as corrupt', () => {
  const a = compressFrameSync(Buffer.from('{"a":1}\n'.repeat(1000)), { contentChecksum: true });
  const b = compressFrameSync(Buffer.from('{"b":2}\n'), { contentChecksum: true });
  const both = Buffer.concat([a, b]);
  const first = scanFrame(both);
  assert.ok(first.ok && first.length === a.length);
  for (let cut = 1; cut < b.length; cut++) {
    const r = scanFrame(b.subarray(0, cut));
    assert.ok(!r.ok && r.incomplete, `cut at ${cut}`);
  }
  const junk = scanFrame(Buffer.from('garbage bytes here'));
  assert.ok(!junk.ok && !junk.incomplete);
});

test('decodeFrame refuses a frame whose blocks could decode past the cap', () => {
  const big = compressFrameSync(Buffer.alloc(4 << 20, 0x61), { contentChecksum: true });
  const s = scanFrame(big);
  assert.ok(s.ok);
  assert.throws(() => decodeFrame(big, s.maxDecoded, 1 << 20), { code: ErrorCode.LZ4_CAP });
  assert.equal(decodeFrame(big, s.maxDecoded, 8 << 20).length, 4 << 20);
});

test('decodeFrame: a frame that does not decode is E_LZ4_FRAME', () => {
  const frame = Buffer.from(compressFrameSync(Buffer.alloc(1 << 16, 0x61), { contentChecksum: true }));
  frame[frame.length - 1]! ^= 0xff; // the content checksum no longer matches
  const s = scanFrame(frame);
  assert.ok(s.ok);
  assert.throws(() => decodeFrame(frame, s.maxDecoded, 8 << 20), { code: ErrorCode.LZ4_FRAME });
});
