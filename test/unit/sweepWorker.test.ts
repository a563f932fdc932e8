import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runVerifier, SWEEP_HEAP } from '../../src/jobs/integrity.js';

// The integrity sweep's verifier runs in a worker whose heap is capped, under the
// per-thread memory goal (256 MB); a log that needs more stops that worker with a
// clear error, and the thread that asked (the daemon's) goes on.

test('the sweep worker heap is capped below 256 MB', () => {
  assert.ok(SWEEP_HEAP.maxOldGenerationSizeMb + SWEEP_HEAP.maxYoungGenerationSizeMb < 256);
});

test('a verifier that needs more heap than its cap is stopped with a clear error, and the caller goes on', async () => {
  const data = mkdtempSync(join(tmpdir(), 'sealog-sweep-'));
  try {
    const req = { data, ring: { keys: [], retirements: [] }, origin: 'test', frameCap: 1 << 20, check: [], throughSegment: 0 };
    // 1 MB of old generation does not even hold the verifier's code.
    await assert.rejects(runVerifier(req, { limits: { maxOldGenerationSizeMb: 1, maxYoungGenerationSizeMb: 1 } }), (err: Error) => {
      assert.match(err.message, /^the verifier ran out of its 1 MB heap and was stopped .*the log was not checked$/);
      return true;
    });
    // The same request under the sweep's own cap gets an answer (here: the ring has no key), twice from a kept worker.
    for (let i = 0; i < 2; i++) {
      const answer = await runVerifier(req, { keep: true });
      assert.ok('error' in answer && /no public key/.test(answer.error), JSON.stringify(answer));
    }
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});
