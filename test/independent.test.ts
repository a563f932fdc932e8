import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { compressFrameSync } from 'lz4-napi';
import { client, ROOT, startDaemon, tmp, type Tmp } from './helpers/daemon.js';

// A verifier written separately in Python, from DESIGN §2–3 alone, must agree
// with ours: every record hash, the chain and every checkpoint root.
const PY = join(ROOT, 'test/independent/verify_sealog.py');
const py = (args: string[]) => spawnSync('python3', [PY, ...args], { encoding: 'utf8', timeout: 120_000 });

let t: Tmp;
before(async () => {
  t = tmp();
  const d = await startDaemon(t, 'batch:\n  max_records: 7\n  linger_ms: 1\nsegment:\n  max_bytes: 8192\ncheckpoint:\n  every_records: 40\n');
  const c = await client(t.socket);
  const events = Array.from({ length: 300 }, (_, i) =>
    JSON.stringify({
      i,
      f: i / 7,
      big: 2 ** 60 + i,
      neg: -0,
      exp: 1e21 * (i + 1),
      tiny: 1.5e-7,
      text: `é 😀 \u2028 ${'ab'.repeat(i % 50)}`,
      nested: { z: [i, null, true], a: { é: 1, e: 2, '\u0080': 3 } },
    }),
  );
  await c.send([...events, 'not json']);
  await c.waitFor(() => c.committed === 300 && c.acks.some((a) => a.ack === 'rejected'), 'all committed');
  await c.end();
  assert.equal(await d.stop(), 0);
});
after(() => t.cleanup());

test('the Python verifier passes its own Ed25519 and JCS self-test', () => {
  const r = py(['--self-test']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('[URS-GMP-030] the Python verifier recomputes every hash, the chain and each checkpoint root', () => {
  const r = py(['--data', t.data, '--key', t.pub]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const v = JSON.parse(r.stdout);
  assert.equal(v.ok, true);
  assert.equal(v.records, 301);
  assert.ok(v.checkpoints_checked >= 7, `checkpoints: ${v.checkpoints_checked}`);
  assert.ok(v.segments >= 3, `segments: ${v.segments}`);
});

test('[URS-GMP-030] [URS-P11-010] the Python verifier also fails a log with one changed record', () => {
  const segs = readdirSync(join(t.data, 'segments')).filter((f) => f.endsWith('.seg.lz4'));
  const path = join(t.data, 'segments', segs[1]!);
  const original = readFileSync(path);
  try {
    // Re-encode the whole segment (all its frames, via the lz4 CLI) with one digit of one record changed.
    const text = spawnSync('lz4', ['-dc', path], { encoding: 'utf8' }).stdout;
    assert.ok(text.split('\n').length > 3, 'segment decoded');
    const changed = text.replace(/"i":(\d+)/, (_, n) => `"i":${Number(n) + 1}`);
    assert.notEqual(changed, text);
    writeFileSync(path, compressFrameSync(Buffer.from(changed)));
    const r = py(['--data', t.data, '--key', t.pub]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.equal(JSON.parse(r.stdout).ok, false);
  } finally {
    writeFileSync(path, original);
  }
});
