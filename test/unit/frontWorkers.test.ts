import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { frontWorkers } from '../../src/front/stage.js';
import { Reloader } from '../../src/service/reload.js';

test('front.workers: auto is one worker per core less the main thread, at least one; a number is taken as it is', () => {
  assert.equal(loadConfig(undefined).front.workers, 'auto', 'the default');
  assert.equal(frontWorkers('auto', 1), 1);
  assert.equal(frontWorkers('auto', 2), 1);
  assert.equal(frontWorkers('auto', 3), 2);
  assert.equal(frontWorkers('auto', 64), 63);
  assert.equal(frontWorkers('auto'), Math.max(1, availableParallelism() - 1), 'the cores this process may run on');
  assert.equal(frontWorkers(3, 2), 3, 'more workers than cores is allowed');
  assert.equal(frontWorkers(1, 64), 1);
});

test('front.workers accepts auto or an integer from 1, and refuses anything else', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealog-cfg-'));
  try {
    const f = join(dir, 'c.yaml');
    const load = (v: string) => {
      writeFileSync(f, `front:\n  workers: ${v}\n`);
      return loadConfig(f).front.workers;
    };
    assert.equal(load('auto'), 'auto');
    assert.equal(load('3'), 3);
    for (const bad of ['0', '-1', '1.5', 'many', '"3"', '1000']) assert.throws(() => load(bad), { code: 'E_CONFIG_INVALID' }, bad);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('front.workers is not reloadable: a change is named as needing a restart and the old value stays', () => {
  const warned: string[] = [];
  const log = pino({ level: 'warn' }, { write: (l: string) => void warned.push((JSON.parse(l) as { msg: string }).msg) });
  const cfg = loadConfig(undefined);
  let swaps = 0;
  const r = new Reloader(cfg, () => () => void swaps++, log);
  const next = { ...cfg, front: { workers: 5 } };
  const outcome = r.reload(() => next);
  assert.deepEqual([outcome.ok, outcome.applied, outcome.needsRestart], [true, [], ['front.workers']]);
  assert.deepEqual(warned, ['configuration: front.workers changed; it takes effect only after a restart']);
  // Still the old value in force: the same file names it again.
  assert.deepEqual(r.reload(() => next).needsRestart, ['front.workers']);
});
