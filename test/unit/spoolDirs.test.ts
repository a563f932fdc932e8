import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ensureOwnDir, moveNoReplace, prepareSpoolDir } from '../../src/sources/spoolDirs.js';

const dir = mkdtempSync(join(tmpdir(), 'sealog-spooldirs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('moveNoReplace never replaces a file: a taken name gets the tag, then a counter', async () => {
  const to = join(dir, 'to');
  mkdirSync(to);
  writeFileSync(join(to, 'a.jsonl'), 'first');
  writeFileSync(join(to, 'a.7.jsonl'), 'second');
  writeFileSync(join(dir, 'a.jsonl'), 'third');
  assert.equal(await moveNoReplace(join(dir, 'a.jsonl'), to, 'a.jsonl', '7'), 'a.7-2.jsonl');
  assert.deepEqual(readdirSync(to).sort(), ['a.7-2.jsonl', 'a.7.jsonl', 'a.jsonl']);
  assert.deepEqual(
    ['a.jsonl', 'a.7.jsonl', 'a.7-2.jsonl'].map((f) => readFileSync(join(to, f), 'utf8')),
    ['first', 'second', 'third'],
  );
});

test('ensureOwnDir: a real 0700 directory; a symlink (dangling or not) or a file in its place is moved aside', async () => {
  const d = join(dir, 'done');
  assert.equal(await ensureOwnDir(d), undefined);
  assert.equal(statSync(d).mode & 0o777, 0o700);
  rmSync(d, { recursive: true });
  symlinkSync(join(dir, 'nowhere'), d);
  const aside = await ensureOwnDir(d);
  assert.ok(aside && lstatSync(aside).isSymbolicLink(), 'the planted link is kept aside, not followed');
  assert.ok(lstatSync(d).isDirectory() && !lstatSync(d).isSymbolicLink());
});

test('prepareSpoolDir creates the spool with the sticky bit, and adds it to a group-writable one it owns', async () => {
  const s = join(dir, 'spool');
  assert.equal(await prepareSpoolDir(s), undefined);
  assert.equal(statSync(s).mode & 0o7777, 0o1770);
  const open = join(dir, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777);
  assert.equal(await prepareSpoolDir(open), undefined);
  assert.equal(statSync(open).mode & 0o1000, 0o1000);
});
