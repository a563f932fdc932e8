import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { generateKeys, parseSignerKey } from '../src/crypto/keys.js';
import { signCheckpoint } from '../src/store/checkpoint.js';
import { harness, type Running, type Tmp } from './helpers/daemon.js';
import { launch, shot } from './helpers/browser.js';
import { call, roleTokens } from './helpers/http.js';

// The dashboard in a real browser against the real daemon: what it shows is what the
// API says, and its in-browser verification trusts only the key the user pins.

// The callbacks below run in the page; Node's typings have no DOM, so these stand in for it.
declare const document: any;
declare const sessionStorage: any;
type HTMLElement = { dataset: Record<string, string> };

const h = harness();
let t: Tmp;
let d: Running;
let tokens: ReturnType<typeof roleTokens>;
let browser: Awaited<ReturnType<typeof launch>>;

before(async () => {
  t = h.fresh();
  tokens = roleTokens(t);
  // No access-log record while the page is open: the tree size it shows stays the API's.
  d = await h.start(t, 'checkpoint: { every_records: 25 }\nhttp: { access_log_flush_ms: 600000 }');
  const lines = Array.from({ length: 240 }, (_, i) =>
    JSON.stringify({
      event_type: i % 4 === 0 ? 'ValidationEvent' : 'PlanningEvent',
      correlation_id: `c-${i % 9}`,
      level: i % 10 === 0 ? 'error' : 'info',
      n: i,
    }),
  );
  const r = await call(d.http!, '/api/v1/events', { token: tokens.producer, body: `${lines.join('\n')}\n`, type: 'application/x-ndjson' });
  assert.equal(r.status, 200);
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

async function signIn(token: string) {
  const { page } = browser;
  await page.goto(d.http!);
  await page.waitForURL(/#settings$/);
  await page.fill('#token', token);
  await page.keyboard.press('Enter');
  await page.waitForURL(/#overview$/);
}

test('the overview loads and shows the tree size, health and key id the API reports', async () => {
  const { page } = browser;
  await signIn(tokens.auditor);
  const api = (await call(d.http!, '/api/v1/overview', { token: tokens.admin })).json;
  await page.waitForFunction((n) => document.getElementById('ov-tree-size')?.textContent === String(n), api.tree_size);
  assert.equal(await page.textContent('#ov-health'), 'ok');
  assert.equal(await page.textContent('#ov-key-id'), api.key_id);
  assert.match((await page.textContent('#who'))!, /test-auditor \(auditor\)/);
  // Two polls, so the charts have points.
  await page.waitForFunction(() => document.querySelectorAll('#chart-rate canvas').length === 1);
  await page.waitForTimeout(2500);
  await shot(page, 'overview');
});

test('filter the trail, page it and open a record with the keyboard', async () => {
  const { page } = browser;
  await page.goto(`${d.http}/#trail`);
  await page.fill('input[name=field]', 'event.correlation_id=c-3');
  await page.selectOption('select[name=level]', 'info');
  await page.fill('input[name=limit]', '10');
  await page.press('input[name=limit]', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('#records tbody tr').length === 10);
  const seqs = await page.$$eval('#records tbody tr', (rows) => rows.map((r) => Number((r as HTMLElement).dataset.seq)));
  const want = (await call(d.http!, '/api/v1/records?field=event.correlation_id=c-3&level=info&limit=10', { token: tokens.admin })).json.records.map(
    (r: { seq: number }) => r.seq,
  );
  assert.deepEqual(seqs, want);
  assert.equal(seqs.length, 10);
  await page.click('#next-page');
  await page.waitForFunction((first) => Number((document.querySelector('#records tbody tr') as HTMLElement)?.dataset.seq) > first, seqs[9]);
  await shot(page, 'trail');
  // Keyboard: focus the first row, Enter opens it.
  await page.focus('#records tbody tr');
  const seq = await page.$eval('#records tbody tr', (r) => (r as HTMLElement).dataset.seq);
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp(`#record/${seq}$`));
  await page.waitForFunction(() => (document.getElementById('record-json')?.textContent ?? '').includes('"seq"'));
  const shown = JSON.parse((await page.textContent('#record-json'))!);
  assert.equal(shown.seq, Number(seq));
  assert.equal(shown.event.correlation_id, 'c-3');
  await shot(page, 'record');
});

test('verify in the browser: passes for the intact log against the pinned key, fails saying why after the data directory is tampered with', async () => {
  const { page } = browser;
  const pub = readFileSync(t.pub, 'utf8').trim();
  await page.goto(`${d.http}/#settings`);
  await page.fill('#pinned-key', pub);
  await page.press('#pinned-key', 'Enter');
  await page.goto(`${d.http}/#record/42`);
  await page.waitForFunction(() => (document.getElementById('record-json')?.textContent ?? '').includes('"seq": 42'));
  await page.click('#verify');
  await page.waitForSelector('#verdict-result');
  assert.equal(await page.textContent('#verdict-result'), 'VERIFIED');
  const verdict = (await page.textContent('#verdict'))!;
  assert.ok(verdict.includes(`against pinned key ${pub.split('+').slice(0, 2).join('+')}`), verdict);
  await shot(page, 'verify-pass');

  // Page loaded; now someone with write access to the data directory swaps every checkpoint's
  // signature for one by a key of their own under the same name.
  const forger = parseSignerKey(generateKeys(pub.split('+')[0]!).signerKey);
  const dir = join(t.data, 'checkpoints');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ckpt'))) {
    const [origin, size, root] = readFileSync(join(dir, f), 'utf8').split('\n');
    writeFileSync(join(dir, f), signCheckpoint(origin!, Number(size), Buffer.from(root!, 'base64'), forger));
  }
  await page.click('#verify');
  await page.waitForFunction(() => document.getElementById('verdict-result')?.textContent === 'FAILED');
  const failed = (await page.textContent('#verdict'))!;
  assert.match(failed, /checkpoint signature: no signature by the pinned key/);
  await shot(page, 'verify-fail');
});

test('without a token the dashboard asks for one and shows no data; a producer token cannot read the trail', async () => {
  const { page } = browser;
  await page.evaluate(() => sessionStorage.clear());
  await page.goto(`${d.http}/#trail`);
  await page.waitForURL(/#settings$/);
  await signIn(tokens.producer);
  await page.waitForSelector('#error:not([hidden])');
  assert.match((await page.textContent('#error'))!, /E_HTTP_FORBIDDEN/);
  assert.equal(await d.stop(), 0);
});
