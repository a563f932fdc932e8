import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, harness, readRecords, verify, waitUntil } from './helpers/daemon.js';

const h = harness();
async function setup(yaml = '') {
  const t = h.fresh();
  const spool = join(t.dir, 'spool');
  mkdirSync(spool, { recursive: true });
  return { t, spool, start: (extra = '') => h.start(t, `spool:\n  stability_ms: 200\n  idle_ms: 300\n${yaml}${extra}`) };
}
const lines = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ f: prefix, i: i + 1 })).join('\n') + '\n';
const inDir = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);
const spoolFiles = (spool: string) =>
  readdirSync(spool)
    .filter((f) => f !== 'done' && f !== 'rejected')
    .sort();

test('both producer protocols, files present at start, other names ignored, bad lines in the middle', async () => {
  const { t, spool, start } = await setup();
  writeFileSync(join(spool, 'early.jsonl'), lines('early', 3)); // present before start
  writeFileSync(join(spool, 'notes.txt'), 'not for us\n');
  const d = await start();
  // rename protocol
  writeFileSync(join(spool, 'renamed.jsonl.tmp'), lines('renamed', 5));
  renameSync(join(spool, 'renamed.jsonl.tmp'), join(spool, 'renamed.jsonl'));
  // write in place, in two parts within the stability window
  writeFileSync(join(spool, 'inplace.jsonl'), '{"f":"inplace","i":1}\n{"f":"inpl');
  await new Promise((r) => setTimeout(r, 50));
  appendFileSync(join(spool, 'inplace.jsonl'), 'ace","i":2}\nnot json\n{"f":"inplace","i":4}');
  // a tmp file that is never renamed stays untouched
  writeFileSync(join(spool, 'pending.jsonl.tmp'), lines('pending', 2));
  await waitUntil(() => inDir(join(spool, 'done')).length === 3, 'three files done');
  assert.deepEqual(inDir(join(spool, 'done')), ['early.jsonl', 'inplace.jsonl', 'renamed.jsonl']);
  assert.deepEqual(spoolFiles(spool), ['notes.txt', 'pending.jsonl.tmp']);
  assert.equal(await d.stop(), 0);
  const recs = readRecords(t);
  const got = (f: string) =>
    recs.filter((r) => r.source.file === f).map((r) => (r.stream === 'rejected' ? `${r.source.line}:${r.event.code}` : `${r.source.line}:${r.event.i}`));
  assert.deepEqual(got('early.jsonl'), ['1:1', '2:2', '3:3']);
  assert.deepEqual(got('renamed.jsonl'), ['1:1', '2:2', '3:3', '4:4', '5:5']);
  assert.deepEqual(got('inplace.jsonl'), ['1:1', '2:2', '3:E_INVALID_JSON', '4:4']);
  // A file written in place may be ingested in parts (each continuing the one before): the totals count.
  const ingested = new Map<string, [number, number]>();
  for (const r of recs.filter((r) => r.type === 'sealog.spool.ingested')) {
    const [a, b] = ingested.get(r.event.file) ?? [0, 0];
    ingested.set(r.event.file, [a + r.event.accepted, b + r.event.rejected]);
  }
  assert.deepEqual([...ingested].sort(), [
    ['early.jsonl', [3, 0]],
    ['inplace.jsonl', [3, 1]],
    ['renamed.jsonl', [5, 0]],
  ]);
  assert.equal(verify(t, ['--strict']).exit, 0);
});

test('lines across read-chunk boundaries, CRLF and over-long lines frame exactly', async () => {
  const { t, spool, start } = await setup('socket:\n  max_line_bytes: 200000\n');
  const d = await start();
  // Each big line crosses a 64 KiB read chunk (its strings stay under sanitize's 65,536-char cap).
  const big = (i: number) => JSON.stringify({ i, pad: 'x'.repeat(40_000 + i), pad2: 'w'.repeat(40_000) });
  const body = [big(1), big(2), '{"i":3}', big(4)].join('\r\n') + '\n' + JSON.stringify({ i: 5, pad: 'y'.repeat(300_000) }) + '\n{"i":6}';
  writeFileSync(join(spool, 'big.jsonl.tmp'), body);
  renameSync(join(spool, 'big.jsonl.tmp'), join(spool, 'big.jsonl'));
  await waitUntil(() => inDir(join(spool, 'done')).includes('big.jsonl'), 'big.jsonl done');
  assert.equal(await d.stop(), 0);
  const recs = readRecords(t).filter((r) => r.source.file === 'big.jsonl');
  assert.deepEqual(
    recs.map((r) => r.event.i ?? r.event.code),
    [1, 2, 3, 4, 'E_LINE_TOO_LONG', 6],
  );
  assert.equal(recs[0]!.event.pad.length, 40_001);
  assert.equal(recs[3]!.event.pad2.length, 40_000);
  assert.equal(recs[4]!.event.raw_bytes, Buffer.byteLength(JSON.stringify({ i: 5, pad: 'y'.repeat(300_000) })));
});

test('symlinks and non-files are refused with a sealed record; duplicates are rejected with the first seq', async () => {
  const { t, spool, start } = await setup();
  const target = join(t.dir, 'secret.jsonl');
  writeFileSync(target, lines('secret', 2));
  symlinkSync(target, join(spool, 'link.jsonl'));
  mkdirSync(join(spool, 'dir.jsonl'));
  writeFileSync(join(spool, 'one.jsonl'), lines('dup', 2));
  const d = await start();
  await waitUntil(() => inDir(join(spool, 'done')).includes('one.jsonl'), 'one.jsonl done');
  writeFileSync(join(spool, 'two.jsonl.tmp'), lines('dup', 2));
  renameSync(join(spool, 'two.jsonl.tmp'), join(spool, 'two.jsonl'));
  await waitUntil(() => inDir(join(spool, 'rejected')).length === 3, 'three rejected');
  assert.deepEqual(inDir(join(spool, 'rejected')), ['dir.jsonl', 'link.jsonl', 'two.jsonl']);
  assert.ok(existsSync(target), 'the link target is untouched');
  assert.equal(await d.stop(), 0);
  const recs = readRecords(t);
  assert.equal(recs.filter((r) => r.event.f === 'secret').length, 0, 'nothing read through the link');
  const codes = Object.fromEntries(recs.filter((r) => r.type?.startsWith('sealog.spool.') && r.event.code).map((r) => [r.event.file, r.event.code]));
  assert.deepEqual(codes, { 'link.jsonl': 'E_SPOOL_SYMLINK', 'dir.jsonl': 'E_SPOOL_NOT_FILE', 'two.jsonl': 'E_SPOOL_DUPLICATE' });
  const first = recs.find((r) => r.type === 'sealog.spool.ingested' && r.event.file === 'one.jsonl')!;
  const dup = recs.find((r) => r.type === 'sealog.spool.duplicate')!;
  assert.equal(dup.event.first_seq, first.seq);
  assert.equal(recs.filter((r) => r.event.f === 'dup').length, 2, 'the duplicate content was not ingested again');
});

test('a move to done/ cut short by a crash (the file linked in the spool and in done/) is finished at the next start, not refused', async () => {
  const { t, spool, start } = await setup();
  writeFileSync(join(spool, 'one.jsonl'), lines('one', 2));
  let d = await start();
  await waitUntil(() => inDir(join(spool, 'done')).includes('one.jsonl'), 'one.jsonl done');
  assert.equal(await d.stop(), 0);
  // What a SIGKILL between moveNoReplace's link() and unlink() leaves behind.
  linkSync(join(spool, 'done', 'one.jsonl'), join(spool, 'one.jsonl'));
  // A producer's own hard link (both names in the spool) is still refused.
  writeFileSync(join(spool, 'two.jsonl'), lines('two', 2));
  linkSync(join(spool, 'two.jsonl'), join(spool, 'two-again.jsonl'));
  d = await start();
  await waitUntil(() => !existsSync(join(spool, 'one.jsonl')), 'the cut move finished');
  await waitUntil(() => inDir(join(spool, 'rejected')).length === 2, 'the producer-linked names refused');
  assert.equal(await d.stop(), 0);
  assert.deepEqual(inDir(join(spool, 'done')), ['one.jsonl']);
  assert.deepEqual(inDir(join(spool, 'rejected')), ['two-again.jsonl', 'two.jsonl']);
  const recs = readRecords(t);
  assert.equal(recs.filter((r) => r.event.f === 'one').length, 2, 'its lines are in the log once');
  assert.equal(recs.filter((r) => r.type === 'sealog.spool.ingested' && r.event.file === 'one.jsonl').length, 1);
  const failed = recs.filter((r) => r.type === 'sealog.spool.failed').map((r) => [r.event.file, r.event.code]);
  assert.deepEqual(failed.sort(), [
    ['two-again.jsonl', 'E_SPOOL_LINKED'],
    ['two.jsonl', 'E_SPOOL_LINKED'],
  ]);
});

test('duplicates: ingest, and on_done: delete', async () => {
  const { t, spool, start } = await setup('  duplicates: ingest\n  on_done: delete\n');
  const d = await start();
  for (const name of ['a', 'b']) {
    writeFileSync(join(spool, `${name}.jsonl.tmp`), lines('same', 2));
    renameSync(join(spool, `${name}.jsonl.tmp`), join(spool, `${name}.jsonl`));
    await waitUntil(() => !existsSync(join(spool, `${name}.jsonl`)), `${name} deleted when done`);
  }
  assert.deepEqual(inDir(join(spool, 'done')), []);
  assert.equal(await d.stop(), 0);
  assert.equal(readRecords(t).filter((r) => r.event.f === 'same').length, 4);
});

test('a file the daemon cannot read is refused with a record, not skipped', {
  skip: process.getuid?.() !== 0 && 'needs root to run the daemon as another user',
}, async () => {
  const { t, spool } = await setup();
  // Root reads everything, so the daemon runs as nobody here, and the file belongs to root, mode 0600.
  mkdirSync(t.data, { recursive: true });
  for (const p of [t.dir, t.data, spool]) chownSync(p, 65534, 65534);
  chmodSync(t.dir, 0o755);
  writeFileSync(join(spool, 'private.jsonl'), lines('private', 2), { mode: 0o600 });
  const d = await h.start(t, 'spool:\n  stability_ms: 200\n', { uid: 65534, gid: 65534 });
  await waitUntil(() => inDir(join(spool, 'rejected')).includes('private.jsonl'), 'private.jsonl rejected');
  assert.equal(await d.stop(), 0);
  const rec = readRecords(t).find((r) => r.type === 'sealog.spool.failed')!;
  assert.deepEqual([rec.event.file, rec.event.code], ['private.jsonl', 'E_SPOOL_UNREADABLE']);
  assert.match(rec.event.reason, /EACCES/);
});

test('a file appended to, truncated, or removed after pickup gets a record of what happened', async () => {
  const { t, spool, start } = await setup();
  const d = await start();
  const cases: [string, (p: string) => void, string][] = [
    ['grown.jsonl', (p) => appendFileSync(p, lines('late', 10)), 'E_SPOOL_CHANGED'],
    ['shrunk.jsonl', (p) => truncateSync(p, 1000), 'E_SPOOL_TRUNCATED'],
    ['gone.jsonl', (p) => unlinkSync(p), 'E_SPOOL_VANISHED'],
  ];
  for (const [name, act] of cases) {
    writeFileSync(join(spool, `${name}.tmp`), lines(name, 100_000));
    const picked = d.stderr().split('spool file picked up').length;
    renameSync(join(spool, `${name}.tmp`), join(spool, name));
    await waitUntil(() => d.stderr().split('spool file picked up').length > picked, `${name} picked up`);
    act(join(spool, name));
    const finished = () =>
      d
        .stderr()
        .split('\n')
        .some((l) => l.includes(`"file":"${name}"`) && l.includes('spool file finished'));
    await waitUntil(finished, `${name} finished`, 60_000);
  }
  assert.equal(await d.stop(), 0);
  const recs = readRecords(t);
  for (const [name, , code] of cases) {
    const failed = recs.find((r) => r.type === 'sealog.spool.failed' && r.event.file === name);
    assert.equal(failed?.event.code, code, name);
    const n = recs.filter((r) => r.event.f === name).length;
    if (code === 'E_SPOOL_TRUNCATED') assert.ok(n > 0 && n < 100_000, `${name}: the lines before the cut (${n})`);
    else assert.equal(n, 100_000, `${name}: every line read at pickup`);
  }
  assert.equal(recs.filter((r) => r.event.f === 'late').length, 0, 'appended lines are not silently taken either');
  assert.equal(verify(t, ['--strict']).exit, 0);
});

test('many small files: one directory watch and a few descriptors, not one per file', async () => {
  const { t, spool, start } = await setup();
  const d = await start();
  const N = 1000;
  for (let i = 0; i < N; i++) writeFileSync(join(spool, `s${i}.jsonl.tmp`), `{"s":${i}}\n`);
  for (let i = 0; i < N; i++) renameSync(join(spool, `s${i}.jsonl.tmp`), join(spool, `s${i}.jsonl`));
  let maxFds = 0;
  let maxWatches = 0;
  await waitUntil(
    () => {
      const fds = readdirSync(`/proc/${d.pid}/fd`);
      maxFds = Math.max(maxFds, fds.length);
      const watches = fds.map(
        (fd) =>
          spawnSync('cat', [`/proc/${d.pid}/fdinfo/${fd}`], { encoding: 'utf8' })
            .stdout.split('\n')
            .filter((l) => l.startsWith('inotify')).length,
      );
      maxWatches = Math.max(
        maxWatches,
        watches.reduce((a, b) => a + b, 0),
      );
      return inDir(join(spool, 'done')).length === N;
    },
    `${N} files done`,
    120_000,
  );
  assert.equal(await d.stop(), 0);
  assert.ok(maxWatches <= 2, `inotify watches: ${maxWatches}`);
  assert.ok(maxFds < 64, `open descriptors: ${maxFds}`);
  assert.equal(readRecords(t).filter((r) => r.source.kind === 'spool').length, N);
});

test('a very large file streams in bounded memory', async () => {
  const { t, spool, start } = await setup('socket:\n  max_line_bytes: 200000\n');
  const d = await start();
  const line = JSON.stringify({ pad: 'z'.repeat(60_000) }) + '\n';
  const path = join(spool, 'huge.jsonl.tmp');
  const chunk = line.repeat(100); // 6 MB
  for (let i = 0; i < 50; i++) appendFileSync(path, chunk); // 300 MB
  const size = statSync(path).size;
  renameSync(path, join(spool, 'huge.jsonl'));
  const peak = () => Number(/VmHWM:\s+(\d+)/.exec(spawnSync('cat', [`/proc/${d.pid}/status`], { encoding: 'utf8' }).stdout)![1]) * 1024;
  // The peak once 128 MiB of it were read, and at the end: memory that followed the file's size would keep growing.
  await waitUntil(() => d.stderr().includes(`"bytes":${128 * 2 ** 20}`), '128 MiB read', 120_000);
  const mid = peak();
  await waitUntil(() => inDir(join(spool, 'done')).includes('huge.jsonl'), 'huge.jsonl done', 120_000);
  const hwm = peak();
  assert.equal(await d.stop(), 0);
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
  assert.ok(hwm - mid < 32 * 2 ** 20, `peak RSS ${mib(mid)} after 128 MiB read, ${mib(hwm)} after all ${mib(size)}`);
  assert.ok(hwm < 320 * 1024 * 1024, `peak RSS ${mib(hwm)} while ingesting a ${mib(size)} file`);
  assert.equal(verify(t).records, 5000 + 1);
});

test('a clean stop leaves the progress cache at the end of the log, even with no spool traffic: the next start replays nothing', async () => {
  const { t, start } = await setup();
  const d = await start();
  const sent = cli(['send', '--socket', t.socket, '--ack'], lines('sock', 50));
  assert.equal(sent.code, 0, sent.stderr);
  assert.equal(await d.stop(), 0);
  const last = readRecords(t).at(-1)!.seq as number;
  assert.equal(JSON.parse(readFileSync(join(t.data, 'spool-state.json'), 'utf8')).seq, last);
});

test('SIGTERM in the middle of a file: what was read commits, the rest resumes after restart, no failure recorded', async () => {
  const { t, spool, start } = await setup();
  let d = await start();
  writeFileSync(join(spool, 'long.jsonl.tmp'), lines('long', 200_000));
  renameSync(join(spool, 'long.jsonl.tmp'), join(spool, 'long.jsonl'));
  await waitUntil(() => d.stderr().includes('spool file picked up'), 'pickup');
  assert.equal(await d.stop(), 0);
  assert.ok(existsSync(join(spool, 'long.jsonl')), 'the file stays until it is complete');
  const before = readRecords(t).filter((r) => r.event.f === 'long').length;
  assert.ok(before < 200_000, `stopped mid-file (${before} lines in)`);
  d = await start();
  await waitUntil(() => inDir(join(spool, 'done')).includes('long.jsonl'), 'long.jsonl done', 60_000);
  assert.equal(await d.stop(), 0);
  const recs = readRecords(t);
  assert.deepEqual(
    recs.filter((r) => r.event.f === 'long').map((r) => r.event.i),
    Array.from({ length: 200_000 }, (_, i) => i + 1),
  );
  assert.equal(recs.filter((r) => r.type === 'sealog.spool.failed').length, 0);
  assert.equal(recs.find((r) => r.type === 'sealog.spool.ingested')!.event.resumed_after_line, before);
});

test('crash: SIGKILL at 20 random moments while 10 files of 100,000 lines are ingested; every line exactly once', async () => {
  const { t, spool, start } = await setup();
  const FILES = 10;
  const LINES = 100_000;
  for (let f = 0; f < FILES; f++) writeFileSync(join(spool, `f${f}.jsonl`), lines(`f${f}`, LINES));
  for (let kill = 0; kill < 20; kill++) {
    const d = await start();
    await new Promise((r) => setTimeout(r, 100 + Math.random() * 1200));
    await d.kill();
  }
  const d = await start();
  await waitUntil(() => inDir(join(spool, 'done')).length === FILES, 'all files done', 180_000);
  assert.equal(await d.stop(), 0);
  assert.deepEqual(spoolFiles(spool), [], 'nothing left behind');
  const seen = new Map<string, number>();
  for (const r of readRecords(t)) {
    if (r.source.kind !== 'spool') continue;
    const k = `${r.source.file}:${r.source.line}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
    assert.equal(r.event.i, r.source.line, 'line number matches content');
  }
  assert.equal(seen.size, FILES * LINES, 'every line present');
  for (const [k, n] of seen) if (n !== 1) assert.fail(`${k} stored ${n} times`);
  assert.equal(verify(t, ['--strict']).exit, 0);
});
