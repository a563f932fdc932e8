import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { compressFrameSync, compressSync } from 'lz4-napi';
import { decodeBlock, decodeFrame, frameBlocks, readFrames, scanFrame } from '../../src/store/lz4frames.js';
import { xxh32 } from '../../src/store/xxh32.js';

// sealog decodes LZ4 blocks itself (into one reused buffer): the reference is lz4-napi's
// encoder, and a hostile block must fail without reading or writing out of its bounds.

/** Bytes that compress: runs of record-like text with random bytes among them. */
const data = fc
  .array(
    fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.constantFrom('{"a":"value","n":12}\n', 'x'.repeat(300), '{"type":"sealog.x"}\n').map((s) => Buffer.from(s)),
    ),
    {
      maxLength: 400,
    },
  )
  .map((parts) => Buffer.concat(parts));

/** One frame of 64 KiB blocks (independent or linked), blocks compressed by lz4-napi (a linked one with the 64 KiB before it as its dictionary). */
function frameOf(input: Buffer, linked: boolean): Buffer {
  const descriptor = Buffer.from([linked ? 0x44 : 0x64, 0x40]); // version 1, content checksum; 64 KiB blocks
  const parts: Buffer[] = [Buffer.from([0x04, 0x22, 0x4d, 0x18]), descriptor, Buffer.from([(xxh32(descriptor) >>> 8) & 0xff])];
  for (let at = 0; at < input.length; at += 1 << 16) {
    const block = input.subarray(at, at + (1 << 16));
    const dict = linked ? input.subarray(Math.max(0, at - (1 << 16)), at) : undefined;
    const packed = compressSync(block, dict).subarray(4); // lz4-napi prepends the size
    const word = Buffer.alloc(4);
    word.writeUInt32LE(packed.length);
    parts.push(word, packed);
  }
  const end = Buffer.alloc(8);
  end.writeUInt32LE(xxh32(input), 4);
  return Buffer.concat([...parts, end]);
}

const decodeAll = (frame: Buffer) => {
  const s = scanFrame(frame);
  assert.ok(s.ok, JSON.stringify(s));
  return decodeFrame(frame, s.maxDecoded, 64 << 20);
};

test('frames lz4-napi writes (4 MiB blocks) decode to what went in', () => {
  fc.assert(fc.property(data, (input) => assert.ok(decodeAll(compressFrameSync(input, { contentChecksum: true })).equals(input))));
  const big = Buffer.concat(Array.from({ length: 30_000 }, (_, i) => Buffer.from(`{"seq":${i},"msg":"${'m'.repeat(i % 97)}"}\n`)));
  assert.ok(decodeAll(compressFrameSync(big, { contentChecksum: true })).equals(big));
});

test('frames of many independent or linked blocks decode to what went in; each block is a view of one reused buffer', () => {
  fc.assert(
    fc.property(fc.array(data, { minLength: 1, maxLength: 8 }), fc.boolean(), (pieces, linked) => {
      const input = Buffer.concat(pieces.flatMap((p) => [p, Buffer.alloc(40_000, p.length & 0xff)]));
      const frame = frameOf(input, linked);
      assert.ok(decodeAll(frame).equals(input));
      const buffers = new Set<ArrayBufferLike>();
      for (const block of frameBlocks(frame)) buffers.add(block.buffer);
      assert.equal(buffers.size, 1);
    }),
    { numRuns: 30 },
  );
});

test('a hostile block fails or decodes within its bounds: nothing outside them is written', () => {
  const low = 16;
  const start = 32;
  const end = 32 + 4096;
  fc.assert(
    fc.property(data, fc.array(fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 1 })), { maxLength: 6 }), (input, flips) => {
      const block = Buffer.from(compressSync(input.subarray(0, 4096)).subarray(4));
      for (const [at, [byte]] of flips) if (block.length) block[at % block.length] = byte!;
      const out = Buffer.alloc(end + 64, 0xee);
      try {
        const n = decodeBlock(block, 0, block.length, out, start, end, low);
        assert.ok(n >= start && n <= end);
      } catch (err) {
        assert.match((err as Error).message, /^LZ4 block is corrupt/);
      }
      assert.ok(
        out.subarray(0, start).every((b) => b === 0xee),
        'wrote before its start',
      );
      assert.ok(
        out.subarray(end).every((b) => b === 0xee),
        'wrote past its end',
      );
    }),
  );
});

test('a block that refers to before its window, or decodes past its maximum, is refused', () => {
  const out = Buffer.alloc(1 << 16);
  // token: 1 literal, then a match at offset 2 (one byte before the block's start).
  assert.throws(() => decodeBlock(Buffer.from([0x10, 0x61, 0x02, 0x00, 0x00]), 0, 5, out, 8, 1 << 16, 8), /before its window/);
  const packed = compressSync(Buffer.alloc(5000, 0x61)).subarray(4);
  assert.equal(decodeBlock(packed, 0, packed.length, out, 0, 5000, 0), 5000);
  assert.throws(() => decodeBlock(packed, 0, packed.length, out, 0, 4999, 0), /declared maximum/);
  assert.throws(() => decodeBlock(packed, 0, packed.length - 1, out, 0, 1 << 16, 0), /LZ4 block is corrupt/);
});

test('readFrames yields every frame of a file in order, frames across reads and one longer than a read, into one reused buffer', async () => {
  // Incompressible bytes, so that frames cut across the 1 MiB reads; one of 3 MB needs a larger buffer, once.
  const frames = [...Array.from({ length: 150 }, (_, i) => 1000 + i * 211), 3_000_000, ...Array.from({ length: 150 }, (_, i) => 20_000 + i)].map((n) =>
    compressFrameSync(randomBytes(n)),
  );
  const dir = mkdtempSync(join(tmpdir(), 'sealog-frames-'));
  try {
    const file = join(dir, 'segment');
    writeFileSync(file, Buffer.concat(frames));
    const fh = await open(file);
    const buffers = new Set<ArrayBufferLike>();
    let i = 0;
    let offset = 0;
    try {
      for await (const f of readFrames(fh, (await fh.stat()).size, 8 << 20)) {
        assert.ok('raw' in f, JSON.stringify(f));
        assert.equal(f.offset, offset);
        assert.ok(f.raw.equals(frames[i]!), `frame ${i}`);
        buffers.add(f.raw.buffer);
        offset += f.raw.length;
        i++;
      }
    } finally {
      await fh.close();
    }
    assert.equal(i, frames.length);
    // The first buffer, and the one grown for the long frame: not one per 1 MiB read (the garbage a sweep piled up).
    assert.ok(buffers.size <= 2, `${buffers.size} read buffers`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
