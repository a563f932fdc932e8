import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config.js';

test('embedded defaults live under ./var and fsync per batch', () => {
  const c = loadConfig(undefined);
  assert.equal(c.data_dir, './var/data');
  assert.equal(c.socket.path, './var/sealog.sock');
  assert.equal(c.socket.mode, '0660');
  assert.equal(c.socket.max_line_bytes, 1024 * 1024);
  assert.equal(c.fsync.mode, 'batch');
  assert.match(c.origin, /^sealog\//);
  assert.ok(Object.isFrozen(c.batch));
});

test('flags override the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealog-cfg-'));
  try {
    const f = join(dir, 'c.yaml');
    writeFileSync(f, 'data_dir: /from/file\nsocket:\n  path: /from/file.sock\n  max_line_bytes: 4096\n');
    const c = loadConfig(f, { data: '/from/flag', socket: '/flag.sock' });
    assert.equal(c.data_dir, '/from/flag');
    assert.equal(c.socket.path, '/flag.sock');
    assert.equal(c.socket.max_line_bytes, 4096);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('an invalid config is refused with every error listed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealog-cfg-'));
  try {
    const f = join(dir, 'c.yaml');
    writeFileSync(f, 'fsync:\n  mode: sometimes\nbatch:\n  max_records: 0\nsocket:\n  mode: rwx\nunknown_option: 1\n');
    assert.throws(() => loadConfig(f), (err: any) => {
      assert.equal(err.code, 'E_CONFIG_INVALID');
      assert.match(err.message, /4 errors/);
      for (const where of ['fsync.mode', 'batch.max_records', 'socket.mode', "'unknown_option'"]) assert.ok(err.message.includes(where), where);
      return true;
    });
    writeFileSync(f, 'a: [unclosed');
    assert.throws(() => loadConfig(f), { code: 'E_CONFIG_INVALID' });
  } finally {
    rmSync(dir, { recursive: true });
  }
});
