import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliAsync, harness, sealedLog, startDaemon, type Tmp } from './helpers/daemon.js';

// The daemon must not append to a log whose closed segments fail verification: at start
// it checks the newest closed segment and every one no sweep has passed against their
// signed manifests and the checkpoints, and holds the log to its newest checkpoint.

const h = harness();
// Sweeps never come on their own here: only the start check reads segments.
const config = (atStart = 'refuse') =>
  `batch: { max_records: 5, linger_ms: 1 }\nsegment: { max_bytes: 4096 }\ncheckpoint: { every_records: 20 }\nintegrity: { at_start: ${atStart}, schedule: "0 0 0 1 1 *", full_schedule: "0 0 0 1 1 *" }\n`;
const CONFIG = config();
const built = sealedLog(
  h,
  CONFIG,
  Array.from({ length: 120 }, (_, i) => JSON.stringify({ msg: `event ${i}`, pad: 'z'.repeat(70) })),
);
const copy = () => built.copy();
const segments = (t: Tmp) =>
  readdirSync(join(t.data, 'segments'))
    .filter((f) => f.endsWith('.seg.lz4'))
    .sort();
function flipMiddle(t: Tmp, segment: string): void {
  const path = join(t.data, 'segments', segment);
  const buf = readFileSync(path);
  buf[buf.length >> 1] ^= 0xff;
  writeFileSync(path, buf);
}
/** Starts the daemon expecting it to refuse; returns its stderr. */
async function refused(t: Tmp, yaml = CONFIG): Promise<string> {
  const err = await startDaemon(t, yaml).then(
    async (d) => {
      await d.stop();
      return undefined;
    },
    (e: Error) => e.message,
  );
  assert.ok(err, 'the daemon started on a damaged log');
  return err;
}

test('a byte flipped in the newest closed segment: the daemon refuses to start (E_LOG_DAMAGED) and appends nothing', async () => {
  const t = copy();
  assert.ok(segments(t).length >= 3, `segments: ${segments(t)}`);
  const newest = segments(t).at(-1)!;
  flipMiddle(t, newest);
  const before = readFileSync(join(t.data, 'segments', newest));
  const err = await refused(t);
  assert.match(err, /E_LOG_DAMAGED/);
  assert.match(err, new RegExp(`segment ${newest.replace('.', '\\.')}`));
  assert.deepEqual(readFileSync(join(t.data, 'segments', newest)), before);
  assert.equal(segments(t).at(-1), newest, 'no segment was opened');
});

test('a byte flipped in an old segment no sweep has passed yet is found at start too', async () => {
  const t = copy();
  flipMiddle(t, segments(t)[0]!);
  const err = await refused(t);
  assert.match(err, /E_LOG_DAMAGED/);
  assert.match(err, /segment 0000000001\.seg\.lz4/);
});

test('with integrity.at_start: unhealthy it starts, reports integrity unhealthy and seals the failed check', async () => {
  const t = copy();
  const damaged = segments(t).at(-1)!;
  flipMiddle(t, damaged);
  const d = await h.start(t, config('unhealthy'));
  const s = await cliAsync(['status', '--json', '--control', t.socket.replace(/\.sock$/, '.ctl')]);
  assert.equal(s.code, 1);
  const integrity = JSON.parse(s.stdout).health.conditions.find((c: { component: string }) => c.component === 'integrity');
  assert.equal(integrity.level, 'unhealthy');
  assert.match(integrity.reason, new RegExp(`at start: .*${damaged.replace('.', '\\.')}`));
  assert.equal(await d.stop(), 0);
  // The damaged segment no longer decodes; the record is in the segment the restart opened.
  const fresh = segments(t).filter((f) => f > damaged);
  const lines = fresh.flatMap((f) =>
    spawnSync('lz4', ['-dc', join(t.data, 'segments', f)], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter(Boolean),
  );
  const sealed = lines.map((l) => JSON.parse(l)).filter((r) => r.type === 'sealog.integrity.sweep' && r.event.mode === 'start');
  assert.equal(sealed.length, 1);
  assert.equal(sealed[0].event.ok, false);
  assert.equal(sealed[0].level, 'error');
});

test('the newest segment deleted (records under a signed checkpoint gone): the daemon refuses to start', async () => {
  const t = copy();
  const newest = segments(t).at(-1)!;
  rmSync(join(t.data, 'segments', newest));
  rmSync(join(t.data, 'segments', newest.replace('.seg.lz4', '.manifest')));
  const err = await refused(t);
  assert.match(err, /E_LOG_DAMAGED/);
  assert.match(err, /records were removed from the end/);
});
