import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, harness, readRecords, verify, waitUntil } from './helpers/daemon.js';

const { fresh, start } = harness();

test('every command explains itself with --help', () => {
  for (const cmd of ['start', 'send', 'verify', 'keygen', 'validate']) {
    const r = cli([cmd, '--help']);
    assert.equal(r.code, 0, cmd);
    assert.match(r.stdout, new RegExp(`^sealog ${cmd} `), cmd);
  }
  const top = cli(['--help']);
  assert.equal(top.code, 0);
  for (const cmd of ['start', 'send', 'verify', 'keygen', 'validate']) assert.match(top.stdout, new RegExp(`\\n  ${cmd} `));
  const bad = cli(['frobnicate']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown command 'frobnicate'/);
  const badFlag = cli(['verify', '--nope']);
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /Unknown option '--nope'/);
  assert.match(cli(['verify', '--help']).stdout, /--threads N/);
  for (const n of ['0', '-1', '1.5', 'two']) {
    const badThreads = cli(['verify', `--threads=${n}`]);
    assert.equal(badThreads.code, 2, `--threads ${n}`);
    assert.match(badThreads.stderr, /--threads must be an integer/);
  }
});

test('send --ack over several files names each rejected line by file and line, and exits 1', async () => {
  const t = fresh();
  const d = await start(t);
  const a = join(t.dir, 'a.jsonl');
  const b = join(t.dir, 'b.jsonl');
  writeFileSync(a, '{"f":"a","n":1}\n{"f":"a","n":2}'); // no final newline: must not run into b
  writeFileSync(b, '{"f":"b","n":1}\n\n{oops\n{"f":"b","n":4}\n');
  const r = cli(['send', '--socket', t.socket, '--ack', a, b]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`rejected ${b.replaceAll('/', '\\/')}:3: E_INVALID_JSON`));
  assert.match(r.stderr, /sent 5, committed 4, rejected 1/);
  const ok = cli(['send', '--socket', t.socket, '--ack', a]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(cli(['send', '--socket', join(t.dir, 'nope.sock'), '--ack'], '{}\n').code, 2);
  assert.equal(await d.stop(), 0);
  const events = readRecords(t)
    .filter((r) => r.stream !== 'rejected')
    .map((r) => `${r.event.f}${r.event.n}`);
  assert.deepEqual(events, ['a1', 'a2', 'b1', 'b4', 'a1', 'a2']);
});

test('checkpoints come every N seconds and idle segments close by age, without a shutdown', async () => {
  const t = fresh();
  const d = await start(t, 'checkpoint:\n  every_seconds: 1\n  every_records: 1000000\nsegment:\n  max_age_seconds: 1\n');
  assert.equal(cli(['send', '--socket', t.socket, '--ack'], '{"n":1}\n{"n":2}\n').code, 0);
  const ckpts = join(t.data, 'checkpoints');
  await waitUntil(() => readdirSync(ckpts).includes('00000000000000000002.ckpt'), 'a timed checkpoint');
  await waitUntil(() => existsSync(join(t.data, 'segments', '0000000001.manifest')), 'the idle segment to close by age');
  // While the daemon still runs, the log verifies strictly: everything is sealed.
  const live = verify(t, ['--strict']);
  assert.equal(live.exit, 0, JSON.stringify(live.failure));
  assert.equal(cli(['send', '--socket', t.socket, '--ack'], '{"n":3}\n').code, 0);
  assert.equal(await d.stop(), 0);
  assert.ok(existsSync(join(t.data, 'segments', '0000000002.seg.lz4')), 'the next record opened a new segment');
  assert.equal(verify(t, ['--strict']).records, 3);
});

test('verify: exit 2 on a missing data dir and on one with keys but no log', () => {
  const t = fresh();
  const k = cli(['keygen', '--data', t.data, '--name', 'sealog/test']);
  assert.equal(k.code, 0, k.stderr);
  const r = cli(['verify', '--data', join(t.dir, 'missing'), '--key', t.pub, '--json']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no data directory/);
  assert.equal(cli(['keygen', '--data', t.data]).code, 1, 'refuses to overwrite keys');
  const v = cli(['verify', '--data', t.data, '--key', t.pub, '--json']);
  assert.equal(v.code, 2, 'keys alone are no log to vouch for');
  assert.match(v.stderr, /not a sealog data directory/);
});

test('every command exits 2 on a usage error, as its --help says; status --json prints JSON when no daemon answers', () => {
  const t = fresh();
  for (const cmd of ['start', 'send', 'verify', 'keygen', 'validate', 'status', 'hold', 'release', 'holds', 'rotate-key']) {
    const help = cli([cmd, '--help']);
    assert.equal(help.code, 0, cmd);
    assert.match(help.stdout.replace(/\s+/g, ' '), /[Ee]xit[^.]*\b2\b[^.]*usage/, `${cmd} --help names exit 2 for usage errors`);
    const r = cli([cmd, '--no-such-flag']);
    assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
    assert.match(r.stderr, /Unknown option '--no-such-flag'/, cmd);
  }
  assert.equal(cli(['release', '--data', t.data]).code, 2, 'release without an id');
  assert.equal(cli(['hold', '--data', t.data, '--reason', 'r']).code, 2, 'hold without a criterion');
  const s = cli(['status', '--json', '--control', join(t.dir, 'none.ctl')]);
  assert.equal(s.code, 2);
  const answer = JSON.parse(s.stdout);
  assert.equal(answer.error.code, 'E_NO_ANSWER');
  assert.match(answer.error.message, /none\.ctl/);
});
