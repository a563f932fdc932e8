import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harness, readRecords, ROOT } from './helpers/daemon.js';

const APP = join(ROOT, 'test/fixtures/pino-app.mjs');
const h = harness();

for (const ending of ['natural', 'exit'] as const) {
  test(`sealog/pino: every line a pino app logged is committed before the app exits (${ending} end)`, async () => {
    const tm = h.fresh();
    await h.start(tm);
    const n = 2000;
    const app = spawnSync(process.execPath, [APP, tm.socket, String(n), ending], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(app.status, 0, app.stderr);
    assert.equal(app.stderr, '', 'the transport reported nothing lost');
    // Read right after the app exited: nothing may still be on its way.
    const got = readRecords(tm).filter((r) => r.source?.kind === 'socket');
    assert.deepEqual(
      got.map((r) => r.event.n),
      [...Array(n).keys()],
    );
    assert.equal(got[9].level, 'warn', 'pino level 40 is warn');
    assert.equal(got[0].level, 'info', 'pino level 30 is info');
    assert.equal(got[0].event.msg, 'tool call');
    assert.match(String(got[0].event.event_id), /^[0-9a-f-]{36}:0$/, 'each line carries an event_id, so a resend is safe');
  });
}
