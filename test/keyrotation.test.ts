import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseSignerKey } from '../src/crypto/keys.js';
import { signNote } from '../src/crypto/note.js';
import { cli, client, harness, readRecords, ROOT, waitUntil, type Tmp } from './helpers/daemon.js';

// Key rotation: `sealog rotate-key` on a stopped daemon's data dir (taken over at
// start) and on a running one (taken over at the next requests pickup); verify
// with a key ring across the transitions; a checkpoint forged with a retired key fails.

const h = harness();
const CONFIG =
  'batch: { max_records: 5, linger_ms: 1 }\ncheckpoint: { every_records: 10 }\nrequests: { schedule: "* * * * * *" }\nintegrity: { enabled: false }\n';

async function send(t: Tmp, count: number, from = 0): Promise<void> {
  const c = await client(t.socket);
  await c.send(Array.from({ length: count }, (_, i) => JSON.stringify({ msg: `event ${from + i}` })));
  await c.waitFor(() => c.committed >= count, `${count} commits`);
  await c.end();
}

interface Verdict {
  ok: boolean;
  failure?: { code: string; file?: string; message: string };
  keyTransitions: { seq: number; old: string; new: string }[];
}
function verifyWith(t: Tmp, keys: string[]): Verdict & { exit: number | null } {
  const r = cli(['verify', '--data', t.data, '--json', ...keys.flatMap((k) => ['--key', k])]);
  if (r.code === 2) throw new Error(r.stderr);
  return { ...(JSON.parse(r.stdout) as Verdict), exit: r.code };
}

test('rotate-key on a stopped daemon and on a running one: verify with the key ring spans both transitions; a retired key cannot sign', async () => {
  const t = h.fresh();
  let d = await h.start(t, CONFIG);
  await send(t, 25);
  assert.equal(await d.stop(), 0);
  const key0 = readFileSync(join(t.data, 'keys/signing.key'), 'utf8');
  const pub0 = readFileSync(t.pub, 'utf8').trim();

  // 1. Stopped daemon: prepared now, taken over at the next start.
  const r1 = cli(['rotate-key', '--data', t.data]);
  assert.equal(r1.code, 0, r1.stderr);
  assert.equal(cli(['rotate-key', '--data', t.data]).code, 1, 'a second rotation while one is pending is refused');
  d = await h.start(t, CONFIG);
  assert.match(d.stderr(), /key rotation finished/);
  await send(t, 25, 25);
  const pub1 = readFileSync(t.pub, 'utf8').trim();
  assert.notEqual(pub1, pub0);

  // 2. Running daemon: picked up within a second.
  assert.equal(cli(['rotate-key', '--data', t.data]).code, 0);
  await waitUntil(() => (d.stderr().match(/key rotation finished/g) ?? []).length === 2, 'the running daemon to take the new key');
  await send(t, 25, 50);
  assert.equal(await d.stop(), 0);
  const pub2 = readFileSync(t.pub, 'utf8').trim();

  const transitions = readRecords(t).filter((r) => r.type === 'sealog.key.transition');
  assert.deepEqual(
    transitions.map((r) => [r.event.old_key, r.event.new_key]),
    [
      [pub0, pub1],
      [pub1, pub2],
    ],
  );
  assert.equal(transitions[0].stream, 'audit');

  const ring = join(t.data, 'keys/ring.pub');
  const ringLines = readFileSync(ring, 'utf8').trim().split('\n');
  assert.deepEqual(
    ringLines.filter((l) => !l.startsWith('{')),
    [pub0, pub1, pub2],
  );
  // Each retired key bound, by its successor, to the trees up to its transition record.
  const retirements = ringLines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  assert.deepEqual(
    retirements.map((r) => [r.retired, r.tree_size, r.successor]),
    [
      [pub0, transitions[0].seq, pub1],
      [pub1, transitions[1].seq, pub2],
    ],
  );
  const all = verifyWith(t, [ring]);
  assert.equal(all.exit, 0, JSON.stringify(all.failure));
  assert.deepEqual(
    all.keyTransitions.map((x) => x.seq),
    transitions.map((r) => r.seq),
  );
  assert.equal(verifyWith(t, [pub0, pub1, pub2]).exit, 0, 'repeated --key works as a ring');
  const oldOnly = verifyWith(t, [pub0]);
  assert.equal(oldOnly.exit, 1);
  assert.equal(oldOnly.failure!.code, 'V_CHECKPOINT_SIGNATURE', 'checkpoints after the rotation are not signed by the old key');
  assert.match(cli(['verify', '--data', t.data, '--key', ring]).stdout, /rotated at seq/);

  // 3. A checkpoint after the first transition, re-signed with the retired key (an attacker
  // holding a copy of it): right size, right root, valid signature by a trusted key, still a failure.
  const after = readdirSync(join(t.data, 'checkpoints'))
    .map((f) => Number(f.slice(0, 20)))
    .filter((n) => n > transitions[0].seq + 1)
    .sort((a, b) => b - a)[0]!;
  const file = join(t.data, 'checkpoints', `${String(after).padStart(20, '0')}.ckpt`);
  const body = readFileSync(file, 'utf8').split('\n\n')[0] + '\n';
  writeFileSync(file, signNote(body, parseSignerKey(key0.trim())));
  const forged = verifyWith(t, [ring]);
  assert.equal(forged.exit, 1);
  assert.equal(forged.failure!.code, 'V_RETIRED_KEY');
  assert.equal(forged.failure!.file, file);
});

test('a copy taken before rotate-key and extended with the old key fails against ring.pub without a witness; verify without --key reads ring.pub; the Python verifier agrees', async () => {
  const t = h.fresh();
  let d = await h.start(t, CONFIG);
  await send(t, 15);
  assert.equal(await d.stop(), 0);
  // The attacker's copy, with the old signing key in it.
  const fork = h.fresh();
  cpSync(t.data, fork.data, { recursive: true });

  assert.equal(cli(['rotate-key', '--data', t.data]).code, 0);
  d = await h.start(t, CONFIG);
  await send(t, 15, 15);
  assert.equal(await d.stop(), 0);
  const ring = join(t.data, 'keys/ring.pub');
  assert.equal(verifyWith(t, [ring]).exit, 0);
  // Item 17: no --key after a rotation reads ring.pub, not just signing.pub.
  const own = cli(['verify', '--data', t.data]);
  assert.equal(own.code, 0, own.stdout);
  assert.match(own.stdout, /INTACT/);
  assert.match(own.stdout, /NOT pinned/);

  // The fork: the old key goes on signing past the size it was retired at.
  const fd = await h.start(fork, CONFIG);
  await send(fork, 15, 100);
  assert.equal(await fd.stop(), 0);
  assert.ok(!readRecords(fork).some((r) => r.type === 'sealog.key.transition'), 'the fork has no transition record');
  const forked = verifyWith(fork, [ring]);
  assert.equal(forked.exit, 1, JSON.stringify(forked));
  assert.equal(forked.failure!.code, 'V_RETIRED_KEY');
  assert.match(forked.failure!.message, /pinned key ring/);

  const py = (data: string) => spawnSync('python3', [join(ROOT, 'test/independent/verify_sealog.py'), '--data', data, '--key', ring], { encoding: 'utf8' });
  const good = py(t.data);
  assert.equal(good.status, 0, good.stdout + good.stderr);
  const bad = py(fork.data);
  assert.equal(bad.status, 1, bad.stdout + bad.stderr);
  assert.match(JSON.parse(bad.stdout).error, /retired/);
});
