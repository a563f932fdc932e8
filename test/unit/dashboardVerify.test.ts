import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { jcs } from '../../src/crypto/canonical.js';
import { leafHash, nodeHash } from '../../src/crypto/hash.js';
import { generateKeys, parseSignerKey } from '../../src/crypto/keys.js';
import { CompactTree } from '../../src/crypto/merkle.js';
import { signCheckpoint } from '../../src/store/checkpoint.js';

// The dashboard's in-browser check (dashboard/verify.js), run here on Node's WebCrypto
// against bundles made with the project's own hashing, tree and note signing.
const ROOT = join(import.meta.dirname, '../../..');
const { verifyBundle, rootFromPath } = (await import(pathToFileURL(join(ROOT, 'dashboard/verify.js')).href)) as {
  verifyBundle(b: unknown, key: string): Promise<{ ok: boolean; keyName: string; keyId: string; steps: { name: string; ok: boolean; detail: string }[] }>;
  rootFromPath(i: number, n: number, leaf: Uint8Array, path: Uint8Array[]): Promise<Uint8Array>;
};

/** RFC 9162 §2.1.1 MTH and §2.1.3.1 PATH, written plainly (test oracle). */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leaves[0]!;
  const k = 2 ** Math.floor(Math.log2(leaves.length - 1));
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}
function path(m: number, leaves: Buffer[]): Buffer[] {
  if (leaves.length === 1) return [];
  const k = 2 ** Math.floor(Math.log2(leaves.length - 1));
  return m < k ? [...path(m, leaves.slice(0, k)), mth(leaves.slice(k))] : [...path(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}

function makeLog(n: number, origin = 'sealog/test') {
  const keys = generateKeys(origin);
  const signer = parseSignerKey(keys.signerKey);
  const lines: string[] = [];
  const leaves: Buffer[] = [];
  let prev = '0'.repeat(64);
  const tree = new CompactTree();
  for (let seq = 0; seq < n; seq++) {
    const body = jcs({
      seq,
      ts: '2026-01-01T00:00:00.000000Z',
      stream: 'audit',
      level: 'info',
      type: 't',
      source: { kind: 'http' },
      event: { n: seq, é: 'ü' },
      redactions: [],
      prev,
    });
    const h = leafHash(body);
    lines.push(`${body.slice(0, -1)},"hash":"${h.toString('hex')}"}`);
    leaves.push(h);
    tree.append(h);
    prev = h.toString('hex');
  }
  const checkpoint = signCheckpoint(origin, n, tree.root(), signer);
  const bundle = (seq: number) => ({
    type: 'sealog.inclusion.v1',
    origin,
    leaf_index: seq,
    tree_size: n,
    record: `${lines[seq]}\n`,
    proof: path(seq, leaves).map((b) => b.toString('base64')),
    checkpoint,
  });
  return { keys, bundle, leaves };
}

test('the dashboard verifier accepts an intact bundle for every leaf of trees of sizes 1..17, naming the pinned key', async () => {
  for (let n = 1; n <= 17; n++) {
    const log = makeLog(n);
    for (let seq = 0; seq < n; seq++) {
      const v = await verifyBundle(log.bundle(seq), log.keys.verifierKey);
      assert.ok(v.ok, `n=${n} seq=${seq}: ${JSON.stringify(v.steps.filter((s) => !s.ok))}`);
      assert.equal(`${v.keyName}+${v.keyId}`, log.keys.verifierKey.split('+').slice(0, 2).join('+'));
    }
    assert.deepEqual(Buffer.from(await rootFromPath(n - 1, n, log.leaves[n - 1]!, path(n - 1, log.leaves))), mth(log.leaves));
  }
});

test('the dashboard verifier fails, saying which step, for each kind of tampering', async () => {
  const log = makeLog(11);
  const good = log.bundle(6);
  const failing = async (b: unknown, key = log.keys.verifierKey) => (await verifyBundle(b, key)).steps.filter((s) => !s.ok).map((s) => s.name);
  // An edited record with its hash left alone; then with its hash recomputed (the path no longer reaches the root).
  const edited = good.record.replace('"n":6', '"n":7');
  assert.deepEqual(await failing({ ...good, record: edited }), ['record hash', 'inclusion path']);
  const body = `${edited.trimEnd().replace(/,"hash":"[0-9a-f]{64}"\}$/, '')}}`;
  const rehashed = `${body.slice(0, -1)},"hash":"${leafHash(body).toString('hex')}"}`;
  assert.deepEqual(await failing({ ...good, record: rehashed }), ['inclusion path']);
  // A path hash swapped; a checkpoint text edited; a checkpoint signed by another key; a wrong pinned key.
  assert.deepEqual(await failing({ ...good, proof: [good.proof[1], good.proof[0], ...good.proof.slice(2)] }), ['inclusion path']);
  assert.deepEqual(await failing({ ...good, checkpoint: good.checkpoint.replace('\n11\n', '\n12\n') }), ['checkpoint signature', 'checkpoint tree size']);
  const other = makeLog(11);
  const v = await verifyBundle(good, other.keys.verifierKey);
  assert.equal(v.ok, false);
  assert.match(v.steps.find((s) => s.name === 'checkpoint signature')!.detail, /no signature by the pinned key/);
  // Not canonical: same content, keys out of order.
  const reordered = good.record.replace('{"event":', '{"seq":6,"event":').replace(',"seq":6', '');
  assert.ok((await failing({ ...good, record: reordered })).includes('canonical form'));
  await assert.rejects(verifyBundle(good, 'not a key'), /not in the form/);
});
