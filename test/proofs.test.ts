import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import fc from 'fast-check';
import { generateKeys, parseVerifierKey } from '../src/crypto/keys.js';
import { loadSigner } from '../src/crypto/keyFiles.js';
import { signCheckpoint } from '../src/store/checkpoint.js';
import { layout } from '../src/store/layout.js';
import { checkBundle, consistencyBundle, inclusionBundle, type InclusionBundle } from '../src/read/proofs.js';
import { openTrail, readCheckpointFile, type CheckpointFile } from '../src/read/trail.js';
import { cli, harness, ROOT, type Tmp } from './helpers/daemon.js';
import { writeLog } from './helpers/writeLog.js';

// Logs written with the writer's own parts (test/helpers/writeLog.ts): one of 300
// records with a checkpoint after every record, and one of a million records.
const h = harness();
let small: Tmp;
let pub: string;
let origin: string;
let cps: CheckpointFile[];
const PY = join(ROOT, 'test/independent/check_bundles.py');
const event = (i: number) => ({ event: { i, corr: `c-${i % 17}`, text: 'x'.repeat(i % 40) }, type: i % 3 ? 'Agent' : 'Tool' });

before(async () => {
  small = h.fresh();
  ({ pub, origin } = await writeLog(small.data, 300, event, { batch: 1, segmentBytes: 4096, checkpointEvery: 1 }));
  cps = await Promise.all(readdirSync(join(small.data, 'checkpoints')).map((f) => readCheckpointFile(join(small.data, 'checkpoints', f))));
  cps.sort((a, b) => a.size - b.size);
  assert.deepEqual(
    cps.map((c) => c.size),
    Array.from({ length: 300 }, (_, i) => i + 1),
  );
});

const keys = () => [parseVerifierKey(pub)];

test('inclusion: against every checkpoint 1..300 of a log, every seq of the small trees and sampled seqs of the rest, check', async () => {
  const trail = openTrail(small.data);
  let n = 0;
  for (const cp of cps) {
    const seqs = cp.size <= 40 ? [...Array(cp.size).keys()] : [0, cp.size - 1, (cp.size * 7) % cp.size, (cp.size * 13 + 5) % cp.size, cp.size >> 1];
    for (const seq of seqs) {
      const b = await inclusionBundle(trail, seq, { checkpoint: cp });
      assert.deepEqual(
        checkBundle(b, keys(), origin),
        { ok: true, type: 'sealog.inclusion.v1', origin, tree_size: cp.size, leaf_index: seq, signer: pub },
        `seq ${seq} in ${cp.size}`,
      );
      n++;
    }
  }
  assert.ok(n > 1500);
});

test('inclusion: any flipped bit in the bundle, a wrong key, a wrong origin, or the proof of another seq fails', async () => {
  const trail = openTrail(small.data);
  const bundles: InclusionBundle[] = [];
  for (const seq of [0, 1, 100, 255, 256, 299]) bundles.push(await inclusionBundle(trail, seq));
  fc.assert(
    fc.property(fc.integer({ min: 0, max: bundles.length - 1 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (k, at, bit) => {
      const bytes = Buffer.from(JSON.stringify(bundles[k]));
      const i = at % bytes.length;
      bytes[i]! ^= 1 << bit;
      assert.equal(
        checkBundle(bytes.toString('latin1'), keys(), origin).ok,
        false,
        `bit ${bit} of byte ${i}: ${bytes.toString('latin1').slice(Math.max(0, i - 20), i + 20)}`,
      );
    }),
    { numRuns: 500 },
  );
  const other = parseVerifierKey(generateKeys(origin).verifierKey);
  for (const b of bundles) {
    assert.equal(checkBundle(b, keys(), origin).ok, true);
    assert.match((checkBundle(b, [other], origin) as { reason: string }).reason, /no valid signature/);
    assert.match((checkBundle(b, keys(), 'sealog/elsewhere') as { reason: string }).reason, /not the pinned/);
  }
  const [a, b] = [bundles[2]!, bundles[3]!];
  assert.equal(checkBundle({ ...a, leaf_index: b.leaf_index, record: b.record }, keys(), origin).ok, false, 'another seq with this proof');
  assert.equal(checkBundle({ ...a, leaf_index: b.leaf_index }, keys(), origin).ok, false, 'the record of one seq claimed for another');
});

test('consistency: every pair of 25 checkpoints checks; a rolled-back or forked log fails', async () => {
  const trail = openTrail(small.data);
  const some = cps.filter((c) => c.size % 12 === 0 || c.size === 1);
  assert.ok(some.length >= 25);
  for (const [i, old] of some.entries()) {
    for (const neu of some.slice(i)) {
      const b = await consistencyBundle(trail, old, { to: neu });
      assert.equal(checkBundle(b, keys(), origin).ok, true, `${old.size} -> ${neu.size}`);
      if (old.size < neu.size) {
        const back = { ...b, old_size: b.new_size, new_size: b.old_size, old_checkpoint: b.new_checkpoint, new_checkpoint: b.old_checkpoint };
        assert.match((checkBundle(back, keys(), origin) as { reason: string }).reason, /rollback/);
      }
    }
  }
  // A checkpoint of the same key and size but another history (a fork), e.g. shown to one auditor only.
  const signer = await loadSigner(layout(small.data));
  const forged = signCheckpoint(origin, 120, Buffer.alloc(32, 7), signer);
  const path = join(small.dir, 'fork.ckpt');
  writeFileSync(path, forged);
  await assert.rejects(
    consistencyBundle(trail, await readCheckpointFile(path)),
    (e: any) => e.code === 'E_INTEGRITY' && /not a checkpoint of this log's history/.test(e.message),
  );
  const real = await consistencyBundle(trail, cps[119]!);
  assert.match((checkBundle({ ...real, old_checkpoint: forged }, keys(), origin) as { reason: string }).reason, /not consistent/);
  const r = cli(['prove', '--data', small.data, '--consistency', path]);
  assert.equal(r.code, 1, r.stderr);
});

test('CLI: prove, check-proof (file and stdin), the exact bundle shape, and "not yet sealed" past the newest checkpoint', () => {
  const p = cli(['prove', '42', '--data', small.data]);
  assert.equal(p.code, 0, p.stderr);
  const b = JSON.parse(p.stdout);
  assert.deepEqual(Object.keys(b), ['type', 'origin', 'leaf_index', 'tree_size', 'record', 'proof', 'checkpoint']);
  assert.equal(b.tree_size, 300);
  const file = join(small.dir, 'b.json');
  writeFileSync(file, p.stdout);
  const ok = cli(['check-proof', file, '--key', join(small.data, 'keys/signing.pub'), '--origin', origin]);
  assert.equal(ok.code, 0, ok.stdout);
  assert.match(ok.stdout, /^VALID: record seq 42 is in the log sealog\/test at tree size 300/);
  const bad = cli(['check-proof', '-', '--key', join(small.data, 'keys/signing.pub')], p.stdout.replace('"leaf_index":42', '"leaf_index":43'));
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /^INVALID: record is seq 42/);
  assert.equal(cli(['check-proof', file]).code, 2, 'no key: usage');
  const c = cli(['prove', '--data', small.data, '--consistency', cps[9]!.file, '--to', cps[199]!.file]);
  assert.deepEqual(Object.keys(JSON.parse(c.stdout)), ['type', 'origin', 'old_size', 'new_size', 'proof', 'old_checkpoint', 'new_checkpoint']);
  assert.equal(cli(['check-proof', '-', '--key', pub, '--json'], c.stdout).code, 0);
  // The newest checkpoints gone: the last records are now an unsealed tail.
  const copy = h.fresh();
  cpSync(small.data, copy.data, { recursive: true });
  for (const cp of cps.slice(250)) rmSync(join(copy.data, 'checkpoints', cp.file.split('/').pop()!));
  const late = cli(['prove', '260', '--data', copy.data]);
  assert.equal(late.code, 1);
  assert.match(late.stderr, /not yet sealed: wait for the next checkpoint/);
  assert.equal(cli(['prove', '249', '--data', copy.data]).code, 0);
  const wp = cli(['query', '--data', copy.data, '--seq', '248..251', '--with-proof']);
  const out = wp.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    out.map((o) => o.type),
    ['sealog.inclusion.v1', 'sealog.inclusion.v1', 'sealog.unsealed.v1', 'sealog.unsealed.v1'],
  );
  assert.equal(checkBundle(out[1], keys(), origin).ok, true);
  assert.equal(cli(['prove', 'x']).code, 2);
});

test('the Python verifier checks the same bundles and tiles independently (RFC 9162 2.1.3.2, 2.1.4.2)', async () => {
  const trail = openTrail(small.data);
  const dir = join(small.dir, 'bundles');
  mkdirSync(dir);
  const py = (args: string[]) => spawnSync('python3', [PY, '--key', join(small.data, 'keys/signing.pub'), '--origin', origin, ...args], { encoding: 'utf8' });
  for (const seq of [0, 7, 128, 299]) {
    const f = join(dir, `i${seq}.json`);
    const b = await inclusionBundle(trail, seq, { checkpoint: cps[seq + ((299 - seq) >> 1)] });
    writeFileSync(f, JSON.stringify(b));
    assert.equal(py(['--bundle', f]).status, 0, py(['--bundle', f]).stdout);
    writeFileSync(f, JSON.stringify({ ...b, proof: [...b.proof].reverse() }));
    if (b.proof.length > 1) assert.equal(py(['--bundle', f]).status, 1);
  }
  for (const [m, n] of [
    [1, 300],
    [64, 200],
    [100, 101],
    [255, 257],
  ] as const) {
    const f = join(dir, `c${m}.json`);
    const b = await consistencyBundle(trail, cps[m - 1]!, { to: cps[n - 1]! });
    writeFileSync(f, JSON.stringify(b));
    assert.equal(py(['--bundle', f]).status, 0, `${m} -> ${n}: ${py(['--bundle', f]).stdout}`);
    writeFileSync(f, JSON.stringify({ ...b, old_checkpoint: cps[m]!.text, old_size: m + 1 }));
    assert.equal(py(['--bundle', f]).status, 1, `claimed ${m + 1}`);
  }
});

test("tiles: sealog tiles writes C2SP tlog-tiles whose hashes recompute the checkpoint root (checked by Python, and by Go's sumdb/tlog when go is installed)", async () => {
  const t = h.fresh();
  const { origin: o } = await writeLog(t.data, 70_000, event, { batch: 1000, segmentBytes: 1 << 20, checkpointEvery: 100_000 });
  const out = join(t.dir, 'tiles');
  const r = cli(['tiles', '--data', t.data, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  for (const p of ['checkpoint', 'tile/0/000', 'tile/0/273.p/112', 'tile/1/000', 'tile/1/001.p/17', 'tile/2/000.p/1', 'tile/entries/273.p/112'])
    assert.ok(readFileSync(join(out, p)).length > 0, p);
  assert.equal(readFileSync(join(out, 'tile/1/000')).length, 256 * 32);
  const py = spawnSync('python3', [PY, '--tiles', out, '--key', join(t.data, 'keys/signing.pub'), '--origin', o], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(py.status, 0, py.stdout + py.stderr);
  assert.deepEqual(JSON.parse(py.stdout), { tree_size: 70_000, entries_checked: 70_000, ok: true });
  const go = goChecker();
  const bundles = [join(t.dir, 'i.json'), join(t.dir, 'c.json')];
  const trail = openTrail(t.data);
  writeFileSync(bundles[0]!, JSON.stringify(await inclusionBundle(trail, 65_537)));
  const first = (await trail.checkpoints())[0]!;
  writeFileSync(bundles[1]!, JSON.stringify(await consistencyBundle(trail, await readCheckpointFile(first.file))));
  if (go) {
    const g = spawnSync(go, ['-key', join(t.data, 'keys/signing.pub'), '-tiles', out, ...bundles], { encoding: 'utf8' });
    assert.equal(g.status, 0, g.stdout + g.stderr);
    assert.deepEqual(JSON.parse(g.stdout), { ok: true, tree_size: 70_000, inclusion: 1, consistency: 1 });
  }
  // One flipped byte in a hash tile: both refuse.
  const tile = join(out, 'tile/1/000');
  const bytes = readFileSync(tile);
  bytes[100]! ^= 1;
  writeFileSync(tile, bytes);
  assert.equal(spawnSync('python3', [PY, '--tiles', out, '--key', join(t.data, 'keys/signing.pub')], { encoding: 'utf8' }).status, 1);
  if (go) assert.equal(spawnSync(go, ['-key', join(t.data, 'keys/signing.pub'), '-tiles', out], { encoding: 'utf8' }).status, 1);
});

test('inclusion at random seqs of a log of a million records', async () => {
  const t = h.fresh();
  const { origin: o } = await writeLog(t.data, 1_000_000, (i) => ({ event: { i } }), { batch: 4096, segmentBytes: 8 << 20, checkpointEvery: 250_000 });
  const trail = openTrail(t.data);
  const k = [parseVerifierKey(readFileSync(join(t.data, 'keys/signing.pub'), 'utf8'))];
  const rnd = fc.sample(fc.integer({ min: 0, max: 999_999 }), { numRuns: 25, seed: 1207 });
  for (const seq of [0, 999_999, ...rnd]) {
    const b = await inclusionBundle(trail, seq);
    assert.equal(b.tree_size, 1_000_000);
    assert.equal(checkBundle(b, k, o).ok, true, `seq ${seq}`);
  }
  const old = await readCheckpointFile((await trail.checkpoints())[1]!.file);
  assert.equal(checkBundle(await consistencyBundle(trail, old), k, o).ok, true);
});

/** Builds test/interop/sealogcheck with the Debian-packaged golang.org/x/mod, or says why not. */
function goChecker(): string | undefined {
  const which = spawnSync('sh', ['-c', 'command -v go'], { encoding: 'utf8' });
  if (which.status !== 0) {
    console.log('# skipping the Go interop check: go is not installed (apt-get install golang-go golang-golang-x-mod-dev)');
    return undefined;
  }
  const dir = join(small.dir, 'go');
  const bin = join(dir, 'sealogcheck');
  const b = spawnSync('go', ['build', '-o', bin, '.'], {
    cwd: join(ROOT, 'test/interop/sealogcheck'),
    env: { ...process.env, GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: join(dir, 'cache'), GOFLAGS: '' },
    encoding: 'utf8',
    timeout: 300_000,
  });
  if (b.status !== 0) {
    if (/cannot find package "golang.org\/x\/mod/.test(b.stderr)) {
      console.log('# skipping the Go interop check: golang.org/x/mod is not installed (apt-get install golang-golang-x-mod-dev)');
      return undefined;
    }
    assert.fail(`go build failed: ${b.stderr}`);
  }
  return bin;
}
