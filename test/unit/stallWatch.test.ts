import assert from 'node:assert/strict';
import { test } from 'node:test';
import { watchForStall } from '../../src/stallWatch.js';
import { Status } from '../../src/status.js';
import { waitUntil } from '../helpers/daemon.js';

test('pipeline stall: input waiting with no commit past the limit is unhealthy, and clears at the next commit', async () => {
  const status = new Status();
  const p = { pending: 0, lastCommitAt: 1 };
  const stop = watchForStall(status, () => ({ ...p }), 100);
  try {
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(status.health().level, 'ok', 'nothing waits: no stall, however long since a commit');
    p.pending = 5;
    await waitUntil(() => status.health().level === 'unhealthy', 'the stall to be noticed', 5000);
    assert.match(status.health().conditions[0]!.reason, /stalled: 5 records wait/);
    assert.equal(status.health().conditions[0]!.component, 'pipeline');
    p.lastCommitAt = 2;
    await waitUntil(() => status.health().level === 'ok', 'the condition to clear at a commit', 5000);
  } finally {
    stop();
  }
});
