import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadHmacKey } from '../../src/crypto/keyFiles.js';
import { createPseudonymizer, parseHmacKey } from '../../src/crypto/pseudonym.js';
import { layout } from '../../src/store/layout.js';

const KEY_A = Buffer.alloc(32, 0xa1);
const KEY_B = Buffer.alloc(32, 0xb2);

test('a pseudonym is <kind>:<24 hex>, stable under one key and different under another', () => {
  const a = createPseudonymizer(KEY_A);
  const p = a('pii:email', 'jane.doe@example.com');
  assert.match(p, /^pii:email:[0-9a-f]{24}$/);
  assert.equal(a('pii:email', 'jane.doe@example.com'), p, 'same key, same value: same pseudonym');
  assert.equal(createPseudonymizer(Buffer.from(KEY_A))('pii:email', 'jane.doe@example.com'), p, 'a second instance with the same key agrees');
  assert.notEqual(createPseudonymizer(KEY_B)('pii:email', 'jane.doe@example.com'), p, 'another key, another pseudonym');
  assert.notEqual(a('pii:email', 'john.doe@example.com'), p);
});

test('the kind is part of the HMAC input (domain separation), and no bare SHA-256 appears', () => {
  const a = createPseudonymizer(KEY_A);
  const v = '4155550134';
  assert.notEqual(a('pii:phone', v).split(':')[2], a('pii:card', v).split(':')[2]);
  const hex = a('pii:phone', v).split(':')[2]!;
  assert.ok(!createHash('sha256').update(v).digest('hex').startsWith(hex), 'not a bare SHA-256 of the value');
  assert.ok(!createHmac('sha256', KEY_A).update(v).digest('hex').startsWith(hex), 'not an HMAC of the value alone');
  // The documented construction, so another tool can recompute a pseudonym given the key.
  const want = createHmac('sha256', KEY_A)
    .update('sealog/pseudonym/v1\u0000pii:phone\u0000' + v)
    .digest('hex')
    .slice(0, 24);
  assert.equal(hex, want);
});

test('the key file must hold 64 hex characters; errors never echo its content', () => {
  assert.deepEqual(parseHmacKey(`${'ab'.repeat(32)}\n`), Buffer.from('ab'.repeat(32), 'hex'));
  for (const bad of ['', 'ab'.repeat(31), `${'ab'.repeat(32)}00`, 'zz'.repeat(32), 'secret-looking-but-not-hex']) {
    assert.throws(
      () => parseHmacKey(bad),
      (err: any) => {
        assert.equal(err.code, 'E_KEY_INVALID');
        if (bad.length > 4) assert.ok(!err.message.includes(bad), 'message does not carry the content');
        return true;
      },
    );
  }
  assert.throws(() => createPseudonymizer(Buffer.alloc(16)), { code: 'E_KEY_INVALID' });
});

test('loadHmacKey refuses a missing, malformed or group-readable keys/hmac.key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealog-hmac-'));
  try {
    const l = layout(dir);
    mkdirSync(l.keys, { recursive: true });
    await assert.rejects(loadHmacKey(l), (err: any) => err.code === 'E_KEY_MISSING' && err.message.includes(l.hmacKey));
    writeFileSync(l.hmacKey, 'not-a-key-at-all\n', { mode: 0o600 });
    await assert.rejects(loadHmacKey(l), (err: any) => err.code === 'E_KEY_INVALID' && !err.message.includes('not-a-key-at-all'));
    writeFileSync(l.hmacKey, `${'cd'.repeat(32)}\n`);
    chmodSync(l.hmacKey, 0o640);
    await assert.rejects(loadHmacKey(l), { code: 'E_KEY_INVALID' });
    chmodSync(l.hmacKey, 0o600);
    assert.deepEqual(await loadHmacKey(l), Buffer.from('cd'.repeat(32), 'hex'));
  } finally {
    rmSync(dir, { recursive: true });
  }
});
