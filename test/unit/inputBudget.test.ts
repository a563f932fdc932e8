import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputBudget } from '../../src/sources/inputBudget.js';

test('input budget: over the limit readers wait; they are woken oldest first, only as many as the room takes, skipping those gone', () => {
  const changes: boolean[] = [];
  const b = new InputBudget(256 * 1024, (full) => changes.push(full));
  const woken: number[] = [];
  b.adjust(300 * 1024);
  assert.equal(b.over, true);
  for (let i = 0; i < 6; i++) b.whenRoom(() => (i === 1 ? false : (woken.push(i), true)));
  assert.equal(b.paused, 6);
  b.adjust(-100 * 1024); // 200 KiB: still above three quarters of the limit
  assert.deepEqual(woken, []);
  b.adjust(-136 * 1024); // 64 KiB held: room for three 64 KiB reads; reader 1 is gone and takes none
  assert.deepEqual(woken, [0, 2, 3]);
  assert.equal(b.paused, 2);
  assert.deepEqual(changes, [true, false]);
  b.adjust(-64 * 1024);
  assert.deepEqual(woken, [0, 2, 3, 4, 5]);
  assert.equal(b.bytes, 0);
  assert.equal(b.pauses, 6);
});
