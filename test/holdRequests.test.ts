import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cli, harness, readRecords, writeConfig } from './helpers/daemon.js';

// hold and release wait for the daemon's verdict (asked over the control socket, so
// not at the next requests pickup), and refuse what they can see is wrong: an id in
// use, an unknown id, a stream that does not exist.

const h = harness();

test('hold and release return the daemon verdict at once; duplicate id, unknown id and unknown stream are refused non-zero', async () => {
  const t = h.fresh();
  // Pickups only when asked: the verdict must come from the control socket request.
  const yaml = 'requests: { schedule: "0 0 0 1 1 *" }\nintegrity: { enabled: false }\n';
  const d = await h.start(t, yaml);
  const cfg = writeConfig(t, yaml);

  const placed = cli(['hold', '--config', cfg, '--id', 'h1', '--tenant', 't-1', '--reason', 'litigation']);
  assert.equal(placed.code, 0, placed.stderr);
  assert.equal(placed.stdout.trim(), 'h1');
  assert.match(placed.stderr, /hold placed, sealed at seq \d+/);
  const holds = JSON.parse(cli(['holds', '--data', t.data, '--json']).stdout);
  assert.deepEqual(
    holds.active.map((x: { id: string }) => x.id),
    ['h1'],
    'applied already, not pending',
  );

  const again = cli(['hold', '--config', cfg, '--id', 'h1', '--stream', 'audit', '--reason', 'again']);
  assert.equal(again.code, 1, again.stdout);
  assert.match(again.stderr, /already active/);
  const stream = cli(['hold', '--config', cfg, '--stream', 'no-such-stream', '--reason', 'r']);
  assert.equal(stream.code, 2);
  assert.match(stream.stderr, /not a stream sealog writes/);
  const unknown = cli(['release', '--config', cfg, '--reason', 'r', 'no-such-hold']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no hold with id no-such-hold/);

  const released = cli(['release', '--config', cfg, '--reason', 'case closed', 'h1']);
  assert.equal(released.code, 0, released.stderr);
  assert.match(released.stderr, /hold released, sealed at seq \d+/);
  assert.equal(await d.stop(), 0);
  const recs = readRecords(t);
  assert.equal(recs.filter((r) => r.type === 'sealog.hold.placed').length, 1, 'the refused duplicate was never sealed');
  assert.equal(recs.filter((r) => r.type === 'sealog.hold.released').length, 1);
});
