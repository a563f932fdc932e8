import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, harness, sealedLog, type Tmp } from './helpers/daemon.js';

// `sealog verify` must never pass what it cannot vouch for: no log at all, records that
// nothing signs, files of a hostile data directory that are not files (links to
// /dev/zero, FIFOs), keys it was not given. Each case runs the real CLI on a real log.

const h = harness();
const built = sealedLog(
  h,
  'batch: { max_records: 5, linger_ms: 1 }\ncheckpoint: { every_records: 10 }\nsegment: { max_bytes: 4096 }\nintegrity: { enabled: false }\n',
  Array.from({ length: 80 }, (_, i) => JSON.stringify({ msg: `event ${i}`, pad: 'x'.repeat(60) })),
);
const copy = () => built.copy();

const verifyJson = (args: string[]) => {
  const r = cli(['verify', '--json', ...args]);
  return { code: r.code, stderr: r.stderr, verdict: r.code === 2 ? undefined : JSON.parse(r.stdout) };
};

test('an empty directory, or the segments/ folder given by mistake, is not a sealog data directory (exit 2), never INTACT', () => {
  const t = h.fresh();
  mkdirSync(t.data);
  for (const dir of [t.data, join(built.log.data, 'segments')]) {
    const r = cli(['verify', '--data', dir, '--key', built.log.pub]);
    assert.equal(r.code, 2, `${dir}: ${r.stdout}`);
    assert.match(r.stderr, /is not a sealog data directory/);
    assert.doesNotMatch(r.stdout, /INTACT/);
  }
});

test('records with no signed checkpoint at all fail (V_NO_CHECKPOINT), without --strict', () => {
  const t = copy();
  rmSync(join(t.data, 'checkpoints'), { recursive: true });
  // The manifests are signed too; without them and the checkpoints nothing in the log is.
  for (const f of readdirSync(join(t.data, 'segments'))) if (f.endsWith('.manifest')) unlinkSync(join(t.data, 'segments', f));
  const r = verifyJson(['--data', t.data, '--key', built.log.pub]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.verdict.failure.code, 'V_NO_CHECKPOINT');
});

test('a checkpoint linked to /dev/zero, a checkpoint that is a FIFO and a segment linked to /dev/zero each fail clearly, at once', () => {
  const newestCheckpoint = (t: Tmp) => join(t.data, 'checkpoints', readdirSync(join(t.data, 'checkpoints')).sort().at(-1)!);
  const cases: [string, (t: Tmp) => string][] = [
    [
      'checkpoint -> /dev/zero',
      (t) => {
        const f = newestCheckpoint(t);
        unlinkSync(f);
        symlinkSync('/dev/zero', f);
        return f;
      },
    ],
    [
      'checkpoint is a FIFO',
      (t) => {
        const f = newestCheckpoint(t);
        unlinkSync(f);
        assert.equal(spawnSync('mkfifo', [f]).status, 0);
        return f;
      },
    ],
    [
      'segment -> /dev/zero',
      (t) => {
        const f = join(
          t.data,
          'segments',
          readdirSync(join(t.data, 'segments'))
            .filter((n) => n.endsWith('.seg.lz4'))
            .sort()[0]!,
        );
        unlinkSync(f);
        symlinkSync('/dev/zero', f);
        return f;
      },
    ],
  ];
  for (const [name, plant] of cases) {
    const t = copy();
    const file = plant(t);
    const started = Date.now();
    const r = verifyJson(['--data', t.data, '--key', built.log.pub]);
    assert.equal(r.code, 1, `${name}: ${r.stderr}`);
    assert.equal(r.verdict.failure.code, 'V_NOT_REGULAR_FILE', name);
    assert.ok(r.verdict.failure.message.includes(file), `${name}: ${r.verdict.failure.message}`);
    assert.ok(Date.now() - started < 60_000, `${name}: no hang`);
  }
});

test('a checkpoint larger than any signed note is refused without reading it whole', () => {
  const t = copy();
  const f = join(t.data, 'checkpoints', readdirSync(join(t.data, 'checkpoints')).sort().at(-1)!);
  const note = readFileSync(f, 'utf8');
  spawnSync('sh', ['-c', `head -c 2000000 /dev/zero | tr '\\0' 'a' >> "${f}"`]);
  assert.ok(readFileSync(f).length > note.length + 1_000_000);
  const r = verifyJson(['--data', t.data, '--key', built.log.pub]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.verdict.failure.code, 'V_FILE_TOO_LARGE');
});

test('a --key file that does not exist is reported as missing; --origin given is printed as pinned', () => {
  const missing = join(built.log.dir, 'no-such.pub');
  const r = cli(['verify', '--data', built.log.data, '--key', missing]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no-such\.pub: no such file/);
  assert.doesNotMatch(r.stderr, /signed-note form .*name\+keyid/);
  const origin = readFileSync(join(built.log.data, 'checkpoints', readdirSync(join(built.log.data, 'checkpoints'))[0]!), 'utf8').split('\n')[0]!;
  const ok = cli(['verify', '--data', built.log.data, '--key', built.log.pub, '--origin', origin]);
  assert.equal(ok.code, 0, ok.stdout);
  assert.match(ok.stdout, new RegExp(`origin +${origin.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(pinned\\)`));
  // Also when verification fails before any checkpoint is read as valid.
  const wrong = cli(['verify', '--data', built.log.data, '--key', built.log.pub, '--origin', 'someone/else']);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stdout, /origin +someone\/else \(pinned\)/);
});

test('query and prove on a data directory whose segment or checkpoint is a FIFO fail with a clear error instead of hanging', () => {
  const t = copy();
  const seg = join(
    t.data,
    'segments',
    readdirSync(join(t.data, 'segments'))
      .filter((n) => n.endsWith('.seg.lz4'))
      .sort()[0]!,
  );
  unlinkSync(seg);
  assert.equal(spawnSync('mkfifo', [seg]).status, 0);
  const q = cli(['query', '--data', t.data, '--format', 'jsonl']);
  assert.ok(q.code !== null && q.code !== 0, `query exit ${q.code} (null: it hung until the timeout)`);
  assert.match(q.stderr, /FIFO, not a regular file/);
  const ckpt = join(built.log.dir, 'witness.ckpt');
  assert.equal(spawnSync('mkfifo', [ckpt]).status, 0);
  const p = cli(['prove', '0', '--data', built.log.data, '--checkpoint', ckpt]);
  assert.ok(p.code !== null && p.code !== 0, `prove exit ${p.code} (null: it hung until the timeout)`);
  assert.match(p.stderr, /FIFO, not a regular file/);
});
