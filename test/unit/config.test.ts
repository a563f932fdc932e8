import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig, type Config } from '../../src/config.js';

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
    assert.throws(
      () => loadConfig(f),
      (err: any) => {
        assert.equal(err.code, 'E_CONFIG_INVALID');
        assert.match(err.message, /4 errors/);
        for (const where of ['fsync.mode', 'batch.max_records', 'socket.mode', "'unknown_option'"]) assert.ok(err.message.includes(where), where);
        return true;
      },
    );
    writeFileSync(f, 'a: [unclosed');
    assert.throws(() => loadConfig(f), { code: 'E_CONFIG_INVALID' });
  } finally {
    rmSync(dir, { recursive: true });
  }
});

// Compile-time: the Config type is derived from the schema; these fail to compile if the
// derivation loses a key's type (to unknown or never) or its optionality.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Derived = [
  Equal<Config['socket'], { path: string; mode: string; max_line_bytes: number; ack_buffer_bytes: number; max_connections: number }>,
  Equal<Config['fsync']['mode'], 'batch' | 'interval' | 'never'>,
  Equal<Config['retention']['streams'], Record<string, string>>,
  Equal<Config['classify']['rules'][number]['name'], string | undefined>,
  Equal<Config['classify']['rules'][number]['match'][string], string | number | boolean | null | { exists: boolean }>,
  Equal<Config['classify']['rules'][number]['set']['gamp_category'], number | undefined>,
  Equal<Config['log']['level'], 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'>,
];
const derived: Derived = [true, true, true, true, true, true, true];

test('the loaded config has every schema section, each a value of the derived type', () => {
  assert.equal(derived.length, 7);
  const c: Config = loadConfig(undefined);
  for (const k of [
    'socket',
    'control',
    'spool',
    'dedupe',
    'batch',
    'fsync',
    'segment',
    'checkpoint',
    'sanitize',
    'redact',
    'classify',
    'limits',
    'retention',
    'requests',
    'integrity',
    'log',
  ] satisfies (keyof Config)[]) {
    assert.equal(typeof c[k], 'object', k);
  }
});
