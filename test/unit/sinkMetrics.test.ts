import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventCounts } from '../../src/eventCounts.js';
import { Metrics } from '../../src/http/metrics.js';
import { Status } from '../../src/status.js';

// The sinks' figures on /metrics, read at scrape time from their status section (sinks/runner.ts's report).

test('each sink exports its cursor and its failed deliveries on /metrics', async () => {
  const status = new Status();
  const m = new Metrics();
  m.attach({
    counts: new EventCounts(),
    status,
    treeSize: () => 0,
    progress: () => ({ lastCommitAt: 0, lastCheckpointAt: 0, checkpointSize: 0 }),
    segment: () => undefined,
  });
  let failures = 3;
  status.section('sinks', () => ({ central: { cursor: 36, failures, lag_records: 5 }, db: { cursor: -1, failures: 0, lag_records: 42 } }));
  const first = await m.scrape();
  for (const line of [
    'sealog_sink_cursor{sink="central"} 36',
    'sealog_sink_cursor{sink="db"} -1',
    'sealog_sink_delivery_failures_total{sink="central"} 3',
    'sealog_sink_delivery_failures_total{sink="db"} 0',
  ])
    assert.ok(first.includes(`${line}\n`), `${line} in\n${first}`);
  failures = 5;
  assert.ok((await m.scrape()).includes('sealog_sink_delivery_failures_total{sink="central"} 5\n'), 'read again at each scrape');
});
