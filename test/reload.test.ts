import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, client, harness, readRecords, verify, waitUntil, writeConfig, type Client } from './helpers/daemon.js';

const { fresh, start } = harness();

test('[URS-GMP-020] validate: exit 0 for a valid file, 1 listing every error, 2 for usage or an unreadable file', () => {
  const t = fresh();
  const ok = cli(['validate', '--config', writeConfig(t, 'batch:\n  max_records: 10\n')]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /valid/);

  const bad = cli(['validate', '--config', writeConfig(t, 'socket:\n  mode: 999\n  bogus: 1\nbatch:\n  max_records: 0\n')]);
  assert.equal(bad.code, 1);
  for (const e of ["socket: must NOT have additional properties 'bogus'", 'socket.mode: must be string', 'batch.max_records: must be >= 1'])
    assert.ok(bad.stderr.includes(e), bad.stderr);
  assert.match(bad.stderr, /3 errors/);

  const badRule = cli(['validate', '--config', writeConfig(t, 'classify:\n  rules:\n    - match: { nowhere: 1 }\n      set: { stream: audit }\n')]);
  assert.equal(badRule.code, 1);
  assert.match(badRule.stderr, /cannot match on 'nowhere'/);

  const schemas = join(t.dir, 'schemas');
  mkdirSync(schemas);
  writeFileSync(join(schemas, 'Thing.schema.json'), '{"type": "nonsense"}');
  const badSchema = cli(['validate', '--config', writeConfig(t, `classify:\n  schemas_dir: ${schemas}\n`)]);
  assert.equal(badSchema.code, 1);
  assert.match(badSchema.stderr, /Thing\.schema\.json/);

  assert.equal(cli(['validate', '--config', join(t.dir, 'missing.yaml')]).code, 2);
  assert.equal(cli(['validate', '--bogus']).code, 2);
  assert.equal(cli(['validate']).code, 0, 'the embedded defaults are valid');
});

async function sendOne(c: Client, event: object): Promise<void> {
  const want = c.committed + 1;
  await c.send([JSON.stringify(event)]);
  await c.waitFor(() => c.committed === want, 'commit');
}

test('SIGHUP: a valid change applies at once and restart-only changes are named; an invalid file is refused and the old config stays', async () => {
  const t = fresh();
  const d = await start(t);
  const c = await client(t.socket);
  await sendOne(c, { k: 'x', n: 1 });

  // Valid: a classification rule and the log level (live), the socket line limit (restart only).
  writeConfig(
    t,
    'classify:\n  rules:\n    - name: k-is-security\n      match: { event.k: x }\n      set: { stream: security }\nsocket:\n  max_line_bytes: 4096\nlog:\n  level: debug\n',
  );
  d.proc.kill('SIGHUP');
  await waitUntil(() => d.stderr().includes('"msg":"configuration reloaded"'), 'reload');
  assert.match(d.stderr(), /"applied":\["classify.rules","log.level"\]|"applied":\["log.level","classify.rules"\]/);
  assert.match(d.stderr(), /"setting":"socket.max_line_bytes".*takes effect only after a restart/);
  await sendOne(c, { k: 'x', n: 2 });

  // Invalid: two problems, both logged; nothing of it applies.
  writeConfig(t, 'classify:\n  rules: []\nbatch:\n  max_records: 0\nbogus: true\n');
  d.proc.kill('SIGHUP');
  await waitUntil(() => d.stderr().includes('configuration reload refused'), 'refusal');
  const refusal = d
    .stderr()
    .split('\n')
    .find((l) => l.includes('configuration reload refused'))!;
  assert.match(refusal, /batch.max_records: must be >= 1/);
  assert.match(refusal, /must NOT have additional properties 'bogus'/);
  await sendOne(c, { k: 'x', n: 3 });
  await c.end();

  assert.equal(d.proc.exitCode, null, 'the daemon kept running');
  assert.equal(await d.stop(), 0);
  const recs = readRecords(t);
  assert.deepEqual(
    recs.map((r) => [r.event.n, r.stream]),
    [
      [1, 'application'],
      [2, 'security'],
      [3, 'security'],
    ],
  );
  assert.equal(verify(t, ['--strict']).exit, 0);
});
