import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { client, harness, readRecords, verify, type Tmp } from './helpers/daemon.js';

// Issue 18 item 5: a line cut inside a secret (never finished, invalid JSON with an unterminated
// value, an over-long line whose kept head ends inside the value) must not put any part of the
// secret in the log. Sent to the real daemon; then every byte of the segments, decompressed by
// the lz4 CLI, and every base64 dead-letter entry decoded, is searched for any 8 characters of
// each secret.

const h = harness();
const LIMIT = 8192;
const HEAD = 4096; // what the line splitter keeps of an over-long line

const S = {
  truncated: 'AbCdEf0123456789SeCrEtOne',
  truncatedToken: 'ghp_Pl4nt3dQzXkvW9GitHubT0k3n0123456789',
  unterminated: 'ZyXwVu9876543210SeCrEtTwo',
  headInValue: 'QwErTy5678901234SeCrEtThree',
  headInSpaces: 'correct horse battery staple tr0ub4dor',
  utf16: 'Pl4nted-UTF16-SeCrEt-Four',
};

/** An over-long line whose first HEAD bytes end `cutAt` characters into `value`, the value of `key`. */
function cutHead(key: string, value: string, cutAt: number): string {
  const before = `","${key}":"`;
  const pad = 'x'.repeat(HEAD - '{"pad":"'.length - before.length - cutAt);
  const line = `{"pad":"${pad}${before}${value}","more":"${'y'.repeat(LIMIT)}"}`;
  assert.equal(Buffer.from(line).subarray(0, HEAD).toString().slice(-cutAt), value.slice(0, cutAt), 'the head ends inside the value');
  return line;
}

function stored(t: Tmp): string {
  const r = spawnSync('sh', ['-c', `cat "${t.data}"/segments/*.seg.lz4 | lz4 -dc`], { encoding: 'latin1', maxBuffer: 1 << 30 });
  assert.equal(r.status, 0, r.stderr);
  const decoded = readRecords(t)
    .filter((x) => x.event?.raw_encoding === 'base64')
    .map((x) => Buffer.from(x.event.raw, 'base64').toString('latin1'));
  return [r.stdout, ...decoded].join('\n');
}

test('no part of a secret in a cut line reaches any stored byte', async () => {
  const t = h.fresh();
  const d = await h.start(t, `socket:\n  max_line_bytes: ${LIMIT}\n`);
  const a = await client(t.socket);
  await a.send([
    `{"api_key":"${S.unterminated}`, // a whole line, not JSON: the value has no closing quote
    cutHead('api_key', S.headInValue, 10),
    cutHead('password', S.headInSpaces, 21), // cut inside "battery"
    Buffer.concat([Buffer.from(`{"password": "${S.utf16}"}`, 'utf16le'), Buffer.from('\n')]),
  ]);
  await a.waitFor(() => a.acks.filter((x) => x.ack === 'rejected').length === 4, 'four dead letters');
  // Two connections that end inside a line: in a secret's value, and in a token.
  for (const cut of [`{"note":"rotate","api_key":"${S.truncated}`, `{"msg":"deploy with ${S.truncatedToken.slice(0, 30)}`]) {
    const c = await client(t.socket, false);
    await c.send([Buffer.from(cut)]);
    await c.end();
  }
  await a.end();
  assert.equal(await d.stop(), 0);

  const records = readRecords(t);
  const rejected = records.filter((r) => r.stream === 'rejected');
  assert.deepEqual(rejected.map((r) => r.event.code).sort(), [
    'E_INVALID_JSON',
    'E_INVALID_JSON',
    'E_LINE_TOO_LONG',
    'E_LINE_TOO_LONG',
    'E_TRUNCATED_LINE',
    'E_TRUNCATED_LINE',
  ]);
  const bytes = stored(t);
  assert.ok(bytes.includes('"code":"E_LINE_TOO_LONG"') && bytes.includes('xxxxxxxx'), 'the search looks at the real bytes');
  for (const [name, secret] of Object.entries(S)) {
    for (let i = 0; i + 8 <= secret.length; i++) {
      const piece = secret.slice(i, i + 8);
      assert.ok(!bytes.includes(piece), `${name}: "${piece}" is stored`);
    }
  }
  for (const r of rejected) assert.equal(r.event.raw_sha256, null, `${r.event.code}: no digest of a line that held a secret or was cut`);
  const notText = rejected.find((r) => r.event.raw_encoding === 'omitted');
  assert.ok(notText && notText.event.raw === null && notText.event.raw_bytes > 0, 'the UTF-16 line keeps only its length');
  assert.equal(verify(t, ['--strict']).ok, true);
});
