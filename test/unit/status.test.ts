import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventCounts } from '../../src/eventCounts.js';
import { Status } from '../../src/status.js';
import type { Sealed } from '../../src/types.js';

test('health is the worst condition reported; ok clears a component, the others stay listed', () => {
  const s = new Status();
  assert.equal(s.health().level, 'ok');
  s.setHealth('disk', 'unhealthy', 'ENOSPC');
  s.setHealth('native', 'degraded', 'no SO_PEERCRED');
  assert.equal(s.health().level, 'unhealthy');
  assert.deepEqual(
    s
      .health()
      .conditions.map((c) => c.component)
      .sort(),
    ['disk', 'native'],
  );
  s.setHealth('disk', 'ok');
  assert.equal(s.health().level, 'degraded');
  assert.deepEqual(
    s.health().conditions.map((c) => c.reason),
    ['no SO_PEERCRED'],
  );
});

test('a condition keeps its first since while it does not change', () => {
  const s = new Status();
  s.setHealth('disk', 'unhealthy', 'ENOSPC');
  const since = s.health().conditions[0]!.since;
  s.setHealth('disk', 'unhealthy', 'ENOSPC');
  assert.equal(s.health().conditions[0]!.since, since);
  s.section('x', () => ({ n: 1 }));
  assert.deepEqual(s.report().x, { n: 1 });
});

test('event counts: in, committed, rejected and pending per source kind', () => {
  const c = new EventCounts();
  for (let i = 0; i < 5; i++) c.received('socket');
  c.received('spool');
  const rec = (kind: string, rejected = false) => ({ source: { kind }, ...(rejected ? { rejected: { code: 'E', reason: '' } } : {}) }) as unknown as Sealed;
  c.durable([rec('socket'), rec('socket'), rec('socket', true)]);
  c.duplicate('socket');
  assert.deepEqual(c.snapshot(), {
    socket: { in: 5, committed: 2, rejected: 1, duplicates: 1, pending: 1 },
    spool: { in: 1, committed: 0, rejected: 0, duplicates: 0, pending: 1 },
  });
  assert.deepEqual(c.totals(), { in: 6, committed: 2, rejected: 1, duplicates: 1, pending: 2 });
});
