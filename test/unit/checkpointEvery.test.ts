import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkpointName } from '../../src/store/layout.js';
import { writeLog } from '../helpers/writeLog.js';

// Checkpoints are written behind the appends, one at a time; one that comes due while
// another is still being written waits for it rather than being skipped, so
// checkpoint.every_records still gives a checkpoint at every crossing of N records.
test('checkpoint.every_records: a checkpoint at every N records, even while the one before is still being written', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealog-ckpt-every-'));
  try {
    const data = join(dir, 'data');
    await writeLog(data, 120, (i) => ({ event: { i } }), { batch: 1, segmentBytes: 1 << 20, checkpointEvery: 1 });
    await writeLog(join(dir, 'three'), 120, (i) => ({ event: { i } }), { batch: 1, segmentBytes: 1 << 20, checkpointEvery: 3 });
    const names = (d: string) => new Set(readdirSync(join(d, 'checkpoints')));
    const every = names(data);
    for (let size = 1; size <= 120; size++) assert.ok(every.has(checkpointName(size)), `a checkpoint at tree size ${size}`);
    const third = names(join(dir, 'three'));
    for (let size = 3; size <= 120; size += 3) assert.ok(third.has(checkpointName(size)), `a checkpoint at tree size ${size}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
