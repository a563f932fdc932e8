import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, harness } from './helpers/daemon.js';

// The CLI often runs as root over a data directory the sealog account can write: a
// symlink planted at a temp file's path must never be written through (the new
// private key would land in the link's target, readable by whoever reads that).

const { fresh } = harness();

test('rotate-key and keygen --force never write through a symlink planted at their temp files', () => {
  const t = fresh();
  assert.equal(cli(['keygen', '--data', t.data, '--name', 'sealog/test']).code, 0);
  const victim = join(t.dir, 'victim.txt');
  writeFileSync(victim, 'untouched\n', { mode: 0o644 });
  const keys = join(t.data, 'keys');
  for (const tmp of ['next.key.tmp', 'next.pub.tmp', 'transition.note.tmp', 'signing.key.tmp', 'hmac.key.tmp', 'signing.pub.tmp'])
    symlinkSync(victim, join(keys, tmp));

  const r = cli(['rotate-key', '--data', t.data]);
  assert.equal(r.code, 0, r.stderr);
  const f = cli(['keygen', '--data', t.data, '--name', 'sealog/test', '--force']);
  assert.equal(f.code, 0, f.stderr);

  assert.equal(readFileSync(victim, 'utf8'), 'untouched\n', 'the link target is unchanged');
  assert.equal(statSync(victim).mode & 0o777, 0o644);
  for (const file of ['next.key', 'signing.key', 'hmac.key']) {
    const st = lstatSync(join(keys, file));
    assert.ok(st.isFile(), `${file} is a regular file, not a link`);
    assert.equal(st.mode & 0o777, 0o600, `${file} is 0600`);
    assert.match(readFileSync(join(keys, file), 'utf8'), file === 'hmac.key' ? /^[0-9a-f]{64}\n$/ : /^PRIVATE\+KEY\+/);
  }
});

test('keygen without --force refuses a symlink planted at a key path instead of writing through it', () => {
  const t = fresh();
  const victim = join(t.dir, 'victim.txt');
  writeFileSync(victim, 'untouched\n', { mode: 0o644 });
  const keys = join(t.data, 'keys');
  mkdirSync(keys, { recursive: true });
  symlinkSync(victim, join(keys, 'signing.key'));
  const r = cli(['keygen', '--data', t.data, '--name', 'sealog/test']);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(readFileSync(victim, 'utf8'), 'untouched\n');
});
