import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT } from './helpers/daemon.js';

// The Python client's own unittest suite runs against the real daemon (clients/python/tests/harness.py
// starts bin/sealog.js); this file runs it from `npm test` and checks the package installs offline.
const PY = process.env.PYTHON ?? 'python3';
const CLIENT = join(ROOT, 'clients/python');

test('Python client: its unittest suite passes against the real daemon', () => {
  const r = spawnSync(PY, ['-W', 'error::ResourceWarning', '-m', 'unittest', 'discover', '-v', '-s', join(CLIENT, 'tests'), '-p', 'test_*.py'], {
    cwd: join(CLIENT, 'tests'),
    env: { ...process.env, SEALOG_ROOT: ROOT, SEALOG_NODE: process.execPath },
    encoding: 'utf8',
    timeout: 300_000,
  });
  process.stderr.write(
    r.stderr
      .split('\n')
      .filter((l) => / \.\.\. |^Ran |^OK|^FAILED|skipped/.test(l))
      .join('\n') + '\n',
  );
  assert.equal(r.status, 0, r.stderr.slice(-4000));
  assert.match(r.stderr, /^Ran (\d+) tests?/m);
});

test('Python client: `pip install ./clients/python` works with no package index, and the installed package imports', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sealog-pip-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const venv = spawnSync(PY, ['-m', 'venv', join(dir, 'venv')], { encoding: 'utf8' });
  if (venv.status !== 0) return t.skip(`python3 -m venv is not available here: ${venv.stderr.trim()}`);
  const py = join(dir, 'venv/bin/python');
  const install = spawnSync(py, ['-m', 'pip', 'install', '--no-index', '--disable-pip-version-check', CLIENT], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(install.status, 0, install.stdout + install.stderr);
  const probe = spawnSync(py, ['-c', 'import sealog, sealog.llamaindex; print(sealog.__file__); print(sealog.Client.__name__)'], {
    cwd: dir,
    encoding: 'utf8',
  });
  assert.equal(probe.status, 0, probe.stderr);
  const [file, name] = probe.stdout.trim().split('\n');
  assert.ok(file!.startsWith(join(dir, 'venv')), `imported from the venv, not the source tree: ${file}`);
  assert.equal(name, 'Client');
});
