import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { harness, readRecords, ROOT } from './helpers/daemon.js';

// The README's Node example, as a user outside the repository runs it: an app of its
// own that installs sealog from its directory, imports sealog/client and sends to a
// running daemon; and `npx sealog` runs the CLI there.

const h = harness();

test('an app outside the repository installs sealog, imports sealog/client and sends to the daemon; npx sealog runs', async () => {
  const t = h.fresh();
  const d = await h.start(t, 'integrity: { enabled: false }\n');
  const app = join(t.dir, 'app');
  spawnSync('mkdir', [app]);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ROOT], { cwd: app, encoding: 'utf8', timeout: 180_000 });
  assert.equal(install.status, 0, install.stderr);
  writeFileSync(
    join(app, 'send.mjs'),
    `import { SealogClient } from 'sealog/client';
const log = await SealogClient.connect({ socket: process.argv[2] });
log.send({ event_type: 'ToolCall', agent_id: 'categorizer', tool: 'search' });
await log.flush();
await log.close();
console.log('sent');
`,
  );
  const run = spawnSync(process.execPath, ['send.mjs', t.socket], { cwd: app, encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim(), 'sent');
  const npx = spawnSync('npx', ['--no-install', 'sealog', 'verify', '--help'], { cwd: app, encoding: 'utf8', timeout: 60_000 });
  assert.equal(npx.status, 0, npx.stderr);
  assert.match(npx.stdout, /^sealog verify /);
  assert.equal(await d.stop(), 0);
  assert.deepEqual(
    readRecords(t)
      .filter((r) => r.event.event_type === 'ToolCall')
      .map((r) => r.event.tool),
    ['search'],
  );
});
