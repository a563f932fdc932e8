import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { harness, readRecords, verify, waitUntil } from './helpers/daemon.js';

// Whole JSON documents in the spool (DESIGN §4): a single object is one event, a
// top-level array one event per element, framed as it is read (bounded memory).
const h = harness();
const CONFIG = 'spool:\n  stability_ms: 100\n  idle_ms: 200\n';
const inDir = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);
const drop = (spool: string, name: string, body: string) => {
  writeFileSync(join(spool, `${name}.tmp`), body);
  renameSync(join(spool, `${name}.tmp`), join(spool, name));
};

/** Writes a JSON array of `n` events to `path` from a generator, without holding it in memory. */
async function writeArray(path: string, n: number, pad: number): Promise<number> {
  const out = createWriteStream(path);
  const filler = 'p'.repeat(pad);
  out.write('[\n');
  for (let i = 1; i <= n; i++) {
    if (!out.write(`${i > 1 ? ',\n' : ''}  {"i":${i},"kind":"bulk","pad":"${filler}"}`)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  out.end('\n]\n');
  await new Promise<void>((r) => out.once('close', () => r()));
  return statSync(path).size;
}

test('.json files: an array is one event per element, a single object one event, a document broken part way keeps what came before', async () => {
  const t = h.fresh();
  const spool = join(t.dir, 'spool');
  const d = await h.start(t, CONFIG);
  drop(spool, 'array.json', JSON.stringify([{ a: 1 }, { a: 2, s: 'x],"y' }, 3, { a: 4 }], null, 2));
  writeFileSync(join(spool, 'single.json'), '{\n  "ticket": 42,\n  "steps": [1, 2]\n}\n'); // written in place
  const broken = '[{"b":1},{"b":2} {"b":3},{"b":4}]';
  drop(spool, 'broken.json', broken);
  await waitUntil(() => inDir(join(spool, 'done')).length === 3, 'three documents done');
  assert.equal(await d.stop(), 0);
  const recs = readRecords(t);
  const of = (file: string) => recs.filter((r) => r.source.file === file).map((r) => [r.source.line, r.stream === 'rejected' ? r.event.code : r.event]);
  assert.deepEqual(of('array.json'), [
    [1, { a: 1 }],
    [2, { a: 2, s: 'x],"y' }],
    [3, 'E_NOT_OBJECT'],
    [4, { a: 4 }],
  ]);
  assert.deepEqual(of('single.json'), [[1, { ticket: 42, steps: [1, 2] }]]);
  assert.deepEqual(of('broken.json'), [
    [1, { b: 1 }],
    [2, { b: 2 }],
    [3, 'E_JSON_DOCUMENT'],
  ]);
  const rest = recs.find((r) => r.event.code === 'E_JSON_DOCUMENT')!;
  assert.equal(rest.event.raw, broken.slice(broken.indexOf(' {"b":3}') + 1));
  const ingested = recs.find((r) => r.type === 'sealog.spool.ingested' && r.event.file === 'broken.json')!;
  assert.deepEqual([ingested.event.invalid_from_byte, ingested.event.accepted, ingested.event.rejected], [broken.indexOf(' {"b":3}') + 1, 2, 1]);
  assert.match(ingested.event.invalid_reason, /expected , or \]/);
  assert.equal(verify(t, ['--strict']).exit, 0);
});

test('a multi-hundred-MB .json array ingests element by element with RSS under 256 MB', async () => {
  const t = h.fresh();
  const spool = join(t.dir, 'spool');
  const d = await h.start(t, CONFIG);
  const N = 150_000;
  const size = await writeArray(join(spool, 'big.json.tmp'), N, 2000); // ~300 MB
  renameSync(join(spool, 'big.json.tmp'), join(spool, 'big.json'));
  await waitUntil(() => inDir(join(spool, 'done')).includes('big.json'), 'big.json done', 600_000);
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(spawnSync('cat', [`/proc/${d.pid}/status`], { encoding: 'utf8' }).stdout)![1]) * 1024;
  assert.equal(await d.stop(), 0);
  console.log(`peak RSS ${(hwm / 2 ** 20).toFixed(0)} MiB for a ${(size / 2 ** 20).toFixed(0)} MiB array of ${N} events`);
  assert.ok(hwm < 256 * 1024 * 1024, `peak RSS ${(hwm / 2 ** 20).toFixed(0)} MiB`);
  assert.equal(verify(t).records, N + 1);
});

test('SIGKILL during a big .json array: after restarts every element is in the log exactly once', async () => {
  const t = h.fresh();
  const spool = join(t.dir, 'spool');
  const N = 200_000;
  mkdirSync(spool);
  await writeArray(join(spool, 'crash.json.tmp'), N, 20);
  renameSync(join(spool, 'crash.json.tmp'), join(spool, 'crash.json'));
  for (let kill = 0; kill < 6; kill++) {
    const d = await h.start(t, CONFIG);
    await new Promise((r) => setTimeout(r, 300 + Math.random() * 1500));
    await d.kill();
  }
  const d = await h.start(t, CONFIG);
  await waitUntil(() => inDir(join(spool, 'done')).includes('crash.json'), 'crash.json done', 300_000);
  assert.equal(await d.stop(), 0);
  const seen = new Map<number, number>();
  for (const r of readRecords(t)) {
    if (r.source.kind !== 'spool') continue;
    assert.equal(r.event.i, r.source.line, 'the element number is its index');
    seen.set(r.event.i, (seen.get(r.event.i) ?? 0) + 1);
  }
  assert.equal(seen.size, N, 'every element present');
  for (const [i, n] of seen) if (n !== 1) assert.fail(`element ${i} stored ${n} times`);
  assert.equal(verify(t, ['--strict']).exit, 0);
});
