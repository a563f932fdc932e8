import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { compressSync } from 'lz4-napi';
import { xxh32 } from '../src/store/xxh32.js';
import { BIN, cli, harness, writeConfig, type Tmp } from './helpers/daemon.js';

// A hostile segment must not make `sealog verify` hold more than 256 MB per thread:
// frames of 4 MiB blocks that decode to hundreds of MB each (a decompression bomb),
// and frames just under the cap made of one endless line. Peak RSS is the verify
// process's own (ru_maxrss of the child, read by a Python wrapper).

const { fresh } = harness();
const MiB = 1024 * 1024;
const LIMIT_PER_THREAD = 256 * 1000 * 1000;

/** One LZ4 frame (independent 4 MiB blocks, no checksums) of `blocks` copies of one block that decodes to 4 MiB of 'a'. */
function bomb(blocks: number): Buffer {
  const block = compressSync(Buffer.alloc(4 * MiB, 'a')).subarray(4); // lz4-napi prepends the size
  const descriptor = Buffer.from([0x60, 0x70]);
  const header = Buffer.concat([Buffer.from([0x04, 0x22, 0x4d, 0x18]), descriptor, Buffer.from([(xxh32(descriptor) >>> 8) & 0xff])]);
  const word = Buffer.alloc(4);
  word.writeUInt32LE(block.length);
  return Buffer.concat([header, ...Array.from({ length: blocks }, () => Buffer.concat([word, block])), Buffer.alloc(4)]);
}

function hostileLog(frames: Buffer[]): Tmp {
  const t = fresh();
  assert.equal(cli(['keygen', '--data', t.data, '--name', 'sealog/test']).code, 0);
  mkdirSync(join(t.data, 'segments'));
  writeFileSync(join(t.data, 'segments', '0000000001.seg.lz4'), Buffer.concat(frames));
  return t;
}

/** Runs verify; returns its verdict and the peak RSS of the verify process in bytes. */
function verifyPeak(t: Tmp, extra: string[]): { code: number; verdict: any; peak: number } {
  const wrapper =
    'import resource,subprocess,sys\nr=subprocess.run(sys.argv[1:],capture_output=True)\nsys.stdout.write(r.stdout.decode())\nsys.stderr.write("%d %d" % (r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))';
  const r = spawnSync('python3', ['-c', wrapper, process.execPath, BIN, 'verify', '--data', t.data, '--key', t.pub, '--json', ...extra], {
    encoding: 'utf8',
    timeout: 300_000,
  });
  const [code, kb] = r.stderr.trim().split(' ').map(Number);
  return { code: code!, verdict: JSON.parse(r.stdout), peak: kb! * 1024 };
}

test('a frame whose blocks could decode past the per-frame cap fails with V_FRAME_TOO_LARGE, holding < 256 MB', (tc) => {
  const t = hostileLog([bomb(75), bomb(75), bomb(75)]); // 300 MiB each, from about 50 KB each on disk
  const r = verifyPeak(t, ['--threads', '1']);
  assert.equal(r.code, 1, JSON.stringify(r.verdict));
  assert.equal(r.verdict.failure.code, 'V_FRAME_TOO_LARGE');
  assert.equal(r.verdict.failure.offset, 0);
  assert.match(r.verdict.failure.message, /--max-frame-mb/);
  tc.diagnostic(`peak RSS ${(r.peak / MiB).toFixed(0)} MiB`);
  assert.ok(r.peak < LIMIT_PER_THREAD, `peak RSS ${(r.peak / MiB).toFixed(0)} MiB`);
});

test('frames just under the cap, each one endless line, are decoded block by block: < 256 MB per thread with 1 and 2 threads', (tc) => {
  const t = hostileLog(Array.from({ length: 8 }, () => bomb(15))); // 60 MiB each
  for (const threads of [1, 2]) {
    const r = verifyPeak(t, ['--threads', String(threads)]);
    assert.equal(r.code, 1, JSON.stringify(r.verdict));
    assert.equal(r.verdict.failure.code, 'V_FRAME_CORRUPT');
    assert.match(r.verdict.failure.message, /whole record line/);
    tc.diagnostic(`${threads} thread(s): peak RSS ${(r.peak / MiB).toFixed(0)} MiB`);
    assert.ok(r.peak < threads * LIMIT_PER_THREAD, `${threads} thread(s): peak RSS ${(r.peak / MiB).toFixed(0)} MiB`);
  }
});

test('the daemon verifies a hostile closed segment at start in its bounded sweep worker: refused, peak RSS < 256 MB', (tc) => {
  const t = hostileLog([bomb(15), bomb(15), bomb(75)]); // 60 MiB one-line frames, then a 300 MiB bomb
  writeFileSync(join(t.data, 'segments', '0000000001.manifest'), 'not a manifest\n'); // closed, as far as the listing goes
  const cfg = writeConfig(t, 'integrity: { enabled: false }\n');
  const wrapper =
    'import resource,subprocess,sys\nr=subprocess.run(sys.argv[1:],capture_output=True,timeout=240)\nsys.stdout.write(r.stderr.decode())\nsys.stderr.write("%d %d" % (r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))';
  const r = spawnSync('python3', ['-c', wrapper, process.execPath, BIN, 'start', '--config', cfg], { encoding: 'utf8', timeout: 300_000 });
  const [code, kb] = r.stderr.trim().split(' ').map(Number);
  assert.equal(code, 1, r.stdout);
  assert.match(r.stdout, /E_LOG_DAMAGED/);
  assert.match(r.stdout, /V_FRAME_CORRUPT: frame does not end with a whole record line/);
  tc.diagnostic(`peak RSS ${(kb! / 1024).toFixed(0)} MiB`);
  assert.ok(kb! * 1024 < LIMIT_PER_THREAD, `peak RSS ${(kb! / 1024).toFixed(0)} MiB`);
});
