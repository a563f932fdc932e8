import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { loadNative } from '../../src/native.js';
import { COMPRESSOR, frameEncoder } from '../../src/stages/compress.js';
import { decodeFrame, scanFrame } from '../../src/store/lz4frames.js';

// Both encoders the compress stage may use must write frames that our own reader and the
// lz4 CLI take, with the content checksum that makes damage show before JSON parsing does.

const MiB = 1 << 20;
const lines = (bytes: number) => {
  const one = Buffer.from('{"seq":1,"event":{"msg":"user logged in","user":"alice"},"hash":"0f3a"}\n');
  return Buffer.concat(Array.from({ length: Math.ceil(bytes / one.length) }, () => one)).subarray(0, bytes);
};
const inputs: [string, Buffer][] = [
  ['empty', Buffer.alloc(0)],
  ['one line', lines(72)],
  ['1 MiB of lines (several blocks)', lines(MiB)],
  ['3 MiB + 1 of random bytes (incompressible: the worst case of the output bound)', randomBytes(3 * MiB + 1)],
];

function ourDecode(frame: Buffer): Buffer {
  const s = scanFrame(frame);
  assert.ok(s.ok, `scanFrame: ${s.ok || s.reason}`);
  assert.equal(s.length, frame.length, 'one frame, nothing after it');
  return decodeFrame(frame, s.maxDecoded, 64 * MiB);
}

const lz4Cli = (frame: Buffer) => spawnSync('lz4', ['-dc'], { input: frame, maxBuffer: 64 * MiB });

const built = !!loadNative().native?.lz4Frame;
for (const name of ['liblz4', 'lz4-napi'] as const) {
  const skip = name === 'liblz4' && !built && COMPRESSOR.why;

  test(`${name}: frames decode to what went in, with our reader and with lz4 -dc, content checksum on`, { skip }, async () => {
    const encode = frameEncoder(name);
    for (const [what, input] of inputs) {
      const frame = await encode(input);
      assert.equal(frame.readUInt32LE(0), 0x184d2204, `${what}: LZ4 frame magic`);
      assert.equal(frame[4]! & 0x04, 0x04, `${what}: content checksum flag`);
      assert.ok(ourDecode(frame).equals(input), `${what}: our reader`);
      const cli = lz4Cli(frame);
      assert.equal(cli.status, 0, `${what}: lz4 -dc: ${cli.stderr}`);
      assert.ok(cli.stdout.equals(input), `${what}: lz4 -dc output`);
    }
  });

  test(`${name}: a frame with one byte of its content changed is refused by its checksum`, { skip }, async () => {
    const input = lines(64 * 1024);
    const frame = Buffer.from(await frameEncoder(name)(input));
    frame[frame.length - 1]! ^= 0x01; // the content checksum itself
    assert.throws(() => ourDecode(frame), /content checksum mismatch/);
    assert.notEqual(lz4Cli(frame).status, 0);
  });

  test(`${name}: frames asked for at once come back each for its own input`, { skip }, async () => {
    const encode = frameEncoder(name);
    const batch = [lines(300 * 1024), randomBytes(100 * 1024), lines(10), lines(2 * MiB)];
    const frames = await Promise.all(batch.map((b) => encode(b)));
    frames.forEach((f, i) => assert.ok(ourDecode(f).equals(batch[i]!), `frame ${i}`));
  });
}

test('the addon refuses a second frame on a compressor still busy with one', { skip: !built && 'the addon was built without liblz4' }, async () => {
  const { lz4Compressor, lz4Frame } = loadNative().native!;
  const c = lz4Compressor!();
  const first = lz4Frame!(c, lines(MiB));
  assert.throws(() => lz4Frame!(c, lines(10)), /still compressing/);
  assert.ok(ourDecode(await first).equals(lines(MiB)));
  assert.ok(ourDecode(await lz4Frame!(c, lines(10))).equals(lines(10)), 'free again once the first is done');
});
