import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, harness, readRecords, verify, waitUntil, type Tmp } from './helpers/daemon.js';

// A spool shared with producers that are not sealog: each attack here runs as a
// producer with a uid of its own (PRODUCER), the daemon as root.
const h = harness();
const PRODUCER = 47001;
const root = process.getuid?.() === 0;
const needsRoot = !root && 'skipped: needs root to run the producer under a uid of its own';

/** A spool owned by the daemon's user, group-writable for the producer's group, created without the sticky bit. */
function sharedSpool(t: Tmp): string {
  chmodSync(t.dir, 0o755);
  const spool = join(t.dir, 'spool');
  mkdirSync(spool, { mode: 0o770 });
  chmodSync(spool, 0o770);
  chownSync(spool, 0, PRODUCER);
  return spool;
}

/** Runs `script` (JavaScript, `spool` in scope) as the producer uid; resolves with its exit code and stderr. */
function asProducer(spool: string, script: string): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawn(
    process.execPath,
    ['-e', `const fs = require('node:fs'); const path = require('node:path'); const spool = ${JSON.stringify(spool)};\n${script}`],
    { uid: PRODUCER, gid: PRODUCER, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (b) => (stderr += b));
  child.stdout.on('data', (b) => (stdout += b));
  return new Promise((r) => child.once('close', (code) => r({ code, stderr, stdout })));
}

const lines = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ f: prefix, i: i + 1 })).join('\n') + '\n';
const CONFIG = 'spool:\n  stability_ms: 100\n  idle_ms: 300\n';

test('spool FIFO race: a FIFO swapped in between listing and open never blocks the daemon', { skip: needsRoot }, async () => {
  const t = h.fresh();
  const spool = sharedSpool(t);
  const d = await h.start(t, CONFIG);
  // The producer makes FIFOs, then for 3 s keeps renaming a finished file over each name and a FIFO over it at once.
  for (let i = 0; i < 8; i++)
    assert.equal(spawnSync('setpriv', [`--reuid=${PRODUCER}`, `--regid=${PRODUCER}`, '--clear-groups', 'mkfifo', join(spool, `p${i}.fifo`)]).status, 0);
  const race = await asProducer(
    spool,
    `const end = Date.now() + 3000; let n = 0;
     while (Date.now() < end) for (let i = 0; i < 8; i++) {
       const name = path.join(spool, 'r' + i + '.jsonl');
       fs.writeFileSync(name + '.tmp', JSON.stringify({ r: i, n: n++ }) + '\\n');
       fs.renameSync(name + '.tmp', name);
       try { fs.linkSync(path.join(spool, 'p' + i + '.fifo'), name + '.new'); fs.renameSync(name + '.new', name); } catch {}
     }
     console.log(n);`,
  );
  assert.equal(race.code, 0, race.stderr);
  // The daemon still takes and commits socket input, answers status, and stops cleanly.
  const sent = cli(['send', '--socket', t.socket, '--ack'], lines('after', 20));
  assert.equal(sent.code, 0, sent.stderr);
  const status = cli(['status', '--json', '--config', join(t.dir, 'sealog.yaml')]);
  assert.equal(status.code, 0, status.stderr);
  assert.equal(JSON.parse(status.stdout).health.level, 'ok', status.stdout);
  assert.equal(await d.stop(), 0);
  const recs = readRecords(t);
  assert.equal(recs.filter((r) => r.event.f === 'after').length, 20);
  const codes = new Set(recs.filter((r) => r.type === 'sealog.spool.failed').map((r) => r.event.code));
  for (const c of codes)
    assert.ok(['E_SPOOL_NOT_FILE', 'E_SPOOL_LINKED', 'E_SPOOL_VANISHED', 'E_SPOOL_TRUNCATED', 'E_SPOOL_CHANGED'].includes(c), `unexpected ${c}`);
  assert.equal(verify(t, ['--strict']).exit, 0);
});

test('spool done/ swapped for a symlink: sealog folders stay its own, no move replaces a file, a dangling done does not stop a restart', {
  skip: needsRoot,
}, async () => {
  const t = h.fresh();
  const spool = sharedSpool(t);
  let d = await h.start(t, CONFIG);
  // sealog sets the sticky bit on the spool it owns and makes its folders 0700: the producer cannot take done/ away.
  assert.equal(statSync(spool).mode & 0o1000, 0o1000, 'sticky bit');
  for (const dir of ['done', 'rejected']) assert.equal(statSync(join(spool, dir)).mode & 0o777, 0o700, dir);
  const attack = await asProducer(
    spool,
    `try { fs.renameSync(path.join(spool, 'done'), path.join(spool, 'mine')); console.log('renamed'); } catch (e) { console.log(e.code); }`,
  );
  assert.equal(attack.stdout.trim(), 'EPERM', 'the producer cannot rename done/ in a sticky spool');

  // Where someone could (a spool that is not sticky), done/ becomes a symlink into the data directory,
  // and a producer file named like sealog's own progress file is dropped.
  const doneList = join(t.data, 'spool-done.jsonl');
  writeFileSync(join(spool, 'first.jsonl.tmp'), lines('first', 2));
  renameSync(join(spool, 'first.jsonl.tmp'), join(spool, 'first.jsonl'));
  await waitUntil(() => existsSync(join(spool, 'done', 'first.jsonl')), 'first.jsonl done');
  renameSync(join(spool, 'done'), join(t.dir, 'old-done'));
  symlinkSync(t.data, join(spool, 'done'));
  const planted = await asProducer(
    spool,
    `fs.writeFileSync(path.join(spool, 'spool-done.jsonl.tmp'), '{"fp":"forged","name":"victim.jsonl","seq":0}\\n'); fs.renameSync(path.join(spool, 'spool-done.jsonl.tmp'), path.join(spool, 'spool-done.jsonl'));`,
  );
  assert.equal(planted.code, 0, planted.stderr);
  await waitUntil(() => !existsSync(join(spool, 'spool-done.jsonl')), 'the planted file to leave the spool');
  assert.ok(lstatSync(join(spool, 'done')).isDirectory(), 'done/ is a real directory again');
  assert.ok(existsSync(join(spool, 'done', 'spool-done.jsonl')), 'the producer file went into the real done/');
  assert.doesNotMatch(readFileSync(doneList, 'utf8'), /forged/, "sealog's own file was not replaced");
  assert.equal(await d.stop(), 0);

  // A dangling done symlink (planted while sealog was stopped) does not stop the next start.
  renameSync(join(spool, 'done'), join(t.dir, 'done-2'));
  symlinkSync(join(t.dir, 'nowhere'), join(spool, 'done'));
  d = await h.start(t, CONFIG);
  writeFileSync(join(spool, 'second.jsonl.tmp'), lines('second', 2));
  renameSync(join(spool, 'second.jsonl.tmp'), join(spool, 'second.jsonl'));
  await waitUntil(() => existsSync(join(spool, 'done', 'second.jsonl')), 'second.jsonl done');
  assert.equal(await d.stop(), 0);
  const recs = readRecords(t);
  assert.equal(recs.filter((r) => r.type === 'sealog.spool.planted').length, 2, 'each planted folder is recorded');
  assert.equal(recs.filter((r) => r.event.f === 'second').length, 2);
  assert.equal(verify(t, ['--strict']).exit, 0);
});

test('spool attribution: each line records the file owner uid/gid; done/ and rejected/ are 0700', { skip: needsRoot }, async () => {
  const t = h.fresh();
  const spool = sharedSpool(t);
  const d = await h.start(t, CONFIG);
  const drop = await asProducer(
    spool,
    `fs.writeFileSync(path.join(spool, 'own.jsonl.tmp'), ${JSON.stringify(lines('own', 3))}); fs.renameSync(path.join(spool, 'own.jsonl.tmp'), path.join(spool, 'own.jsonl'));`,
  );
  assert.equal(drop.code, 0, drop.stderr);
  await waitUntil(() => existsSync(join(spool, 'done', 'own.jsonl')), 'own.jsonl done');
  assert.equal(await d.stop(), 0);
  const recs = readRecords(t);
  const own = recs.filter((r) => r.event.f === 'own');
  assert.equal(own.length, 3);
  for (const r of own) assert.deepEqual(r.source.owner, { uid: PRODUCER, gid: PRODUCER });
  assert.deepEqual(recs.find((r) => r.type === 'sealog.spool.ingested')!.event.owner, { uid: PRODUCER, gid: PRODUCER });
  for (const dir of ['done', 'rejected']) assert.equal(statSync(join(spool, dir)).mode & 0o777, 0o700, dir);
  assert.equal(verify(t, ['--strict']).exit, 0);
});

test('same name twice in done/: both files are kept', async () => {
  const t = h.fresh();
  const spool = join(t.dir, 'spool');
  const d = await h.start(t, CONFIG);
  for (const body of [lines('one', 2), lines('two', 3)]) {
    writeFileSync(join(spool, 'same.jsonl.tmp'), body);
    renameSync(join(spool, 'same.jsonl.tmp'), join(spool, 'same.jsonl'));
    await waitUntil(() => !existsSync(join(spool, 'same.jsonl')), 'same.jsonl to leave the spool');
  }
  assert.equal(await d.stop(), 0);
  const kept = readdirSync(join(spool, 'done')).sort();
  assert.equal(kept.length, 2, kept.join());
  const contents = kept.map((f) => readFileSync(join(spool, 'done', f), 'utf8')).sort();
  assert.deepEqual(contents, [lines('one', 2), lines('two', 3)]);
  const second = readRecords(t).filter((r) => r.type === 'sealog.spool.ingested')[1]!;
  assert.ok(kept.includes(`same.${second.seq}.jsonl`), `the second is suffixed with its ingested record's seq: ${kept}`);
});

test('slowly written spool file: every line written in place is sealed whatever the pauses, and writes after the move are reported', async () => {
  const t = h.fresh();
  const spool = join(t.dir, 'spool');
  const d = await h.start(t, 'spool:\n  stability_ms: 100\n  idle_ms: 1500\n');
  // A logger that keeps its file open and pauses longer than the stability window between lines, once mid-line.
  const path = join(spool, 'slow.jsonl');
  const fd = openSync(path, 'a');
  const write = (s: string) => writeSync(fd, s);
  const ingestedCount = () => readIngested(d.stderr());
  write('{"slow":1}\n');
  for (let i = 2; i <= 5; i++) {
    const before = ingestedCount();
    await waitUntil(() => ingestedCount() > before, `part ${i - 1} ingested`);
    write(i === 3 ? '{"slow":3,' : `{"slow":${i}}\n`);
    if (i === 3) {
      await new Promise((r) => setTimeout(r, 400)); // a pause mid-line, longer than the stability window
      write('"x":true}\n');
    }
  }
  await waitUntil(() => existsSync(join(spool, 'done', 'slow.jsonl')), 'slow.jsonl moved once idle', 20_000);
  // The writer still has the file open and writes again: reported, not lost without a word.
  write('{"slow":6}\n');
  closeSync(fd);
  await waitUntil(() => readRecordsSafe(t).some((r) => r.type === 'sealog.spool.grown_after_move'), 'growth after the move reported', 20_000);
  assert.equal(await d.stop(), 0);
  const recs = readRecords(t);
  assert.deepEqual(
    recs.filter((r) => r.event.slow !== undefined).map((r) => [r.event.slow, r.source.line]),
    [
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
      [5, 5],
    ],
  );
  assert.equal(recs.filter((r) => r.stream === 'rejected').length, 0, 'the line cut by a pause was not taken half-written');
  const grown = recs.find((r) => r.type === 'sealog.spool.grown_after_move')!;
  assert.deepEqual([grown.event.file, grown.event.bytes_now - grown.event.bytes_at_move], ['slow.jsonl', '{"slow":6}\n'.length]);
  assert.equal(verify(t, ['--strict']).exit, 0);
});

function readIngested(stderr: string): number {
  return stderr.split('\n').filter((l) => l.includes('"file":"slow.jsonl"') && l.includes('spool file picked up')).length;
}

function readRecordsSafe(t: Tmp): Record<string, any>[] {
  try {
    return readRecords(t);
  } catch {
    return [];
  }
}
