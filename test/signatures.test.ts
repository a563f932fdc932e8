import assert from 'node:assert/strict';
import { cpSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cli, cliAsync, client, harness, readRecords, verify, writeConfig, type Tmp } from './helpers/daemon.js';
import { resealLog } from './helpers/reseal.js';

// Electronic signatures (DESIGN §13, 21 CFR 11.50, 11.70, 11.200) through the real
// daemon and CLI: sign, verify, and each way a signature can go wrong, with its code.

const { fresh, start } = harness();
const PASS = 'correct horse battery staple';
const NAME = 'Ann Q. Reviewer';

interface Signed {
  t: Tmp;
  key: string;
  passFile: string;
  sigSeq: number;
}

function signerAdd(t: Tmp, name: string, out: string, pass = PASS, data = t.data) {
  const passFile = join(t.dir, `pass-${Math.random().toString(36).slice(2)}`);
  writeFileSync(passFile, `${pass}\n`, { mode: 0o600 });
  const r = cli(['signer', 'add', '--name', name, '--out', out, '--data', data, '--passphrase-file', passFile]);
  assert.equal(r.code, 0, r.stderr);
  return passFile;
}

const sign = (t: Tmp, key: string, passFile: string, args: string[]) =>
  cliAsync(['sign', '--config', join(t.dir, 'sealog.yaml'), '--key', key, '--passphrase-file', passFile, ...args]);

/** A stopped log of 6 events with one approval signature over records 1 and 2. */
async function signedLog(): Promise<Signed> {
  const t = fresh();
  const d = await start(t);
  const c = await client(t.socket);
  await c.send(Array.from({ length: 6 }, (_, i) => JSON.stringify({ event_type: 'ValidationEvent', agent_id: 'agent-7', i })));
  await c.waitFor(() => c.committed === 6, '6 commits');
  await c.end();
  const key = join(t.dir, 'ann.signer');
  const passFile = signerAdd(t, NAME, key);
  const r = await sign(t, key, passFile, ['--name', NAME, '--meaning', 'approval', '--seq', '1', '--seq', '2', '--reason', 'batch record reviewed']);
  assert.equal(r.code, 0, r.stderr);
  const sigSeq = (JSON.parse(r.stdout) as { seq: number }).seq;
  assert.equal(await d.stop(), 0);
  return { t, key, passFile, sigSeq };
}

let shared: Promise<Signed> | undefined;
const base = () => (shared ??= signedLog());

/** A copy of the signed log's data directory, to tamper with. */
async function copy(): Promise<Signed & { data: string }> {
  const s = await base();
  const c = fresh();
  cpSync(s.t.data, c.data, { recursive: true });
  return { ...s, t: { ...c, pub: join(c.data, 'keys/signing.pub') }, data: c.data };
}

test('[URS-P11-090] [URS-P11-110] sign: a passphrase-protected signer key, the signature sealed by the daemon with printed name, time and meaning; verify checks it', async () => {
  const s = await base();
  assert.equal(statSync(s.key).mode & 0o777, 0o600, 'the signer key file is 0600');
  assert.doesNotMatch(readFileSync(s.key, 'utf8'), /PRIVATE\+KEY/, 'the private key is stored encrypted');
  assert.match(readFileSync(join(s.t.data, 'keys/signers.pub'), 'utf8'), new RegExp(`\\+[0-9a-f]{8}\\+\\S+ ${NAME.replace('.', '\\.')}\\n`));
  const records = readRecords(s.t);
  const sig = records.find((r) => r.seq === s.sigSeq)!;
  assert.equal(sig.type, 'sealog.signature');
  assert.equal(sig.stream, 'audit');
  assert.deepEqual(sig.source, { kind: 'sealog' });
  assert.deepEqual(Object.keys(sig.event).sort(), ['meaning', 'reason', 'records', 'signature', 'signed_at', 'signer']);
  assert.equal(sig.event.signer.name, NAME);
  assert.equal(sig.event.meaning, 'approval');
  assert.equal(sig.event.reason, 'batch record reviewed');
  assert.deepEqual(
    sig.event.records,
    [1, 2].map((seq) => ({ seq, hash: records[seq]!.hash })),
  );
  const listed = cli(['query', '--data', s.t.data, '--type', 'sealog.signature', '--format', 'jsonl']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(
    listed.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l).seq),
    [s.sigSeq],
    'sealog query --type sealog.signature lists it',
  );
  const v = verify(s.t);
  assert.equal(v.exit, 0, JSON.stringify(v));
  const checked = (v as unknown as { signatures: { seq: number; signer: string; meaning: string }[] }).signatures;
  assert.deepEqual(
    checked.map((x) => [x.seq, x.signer, x.meaning]),
    [[s.sigSeq, NAME, 'approval']],
  );
  assert.ok(
    v.warnings.some((w) => w.code === 'V_SIGNERS_NOT_PINNED'),
    'the verdict says the signer registry was not pinned',
  );
  const pinned = cli(['verify', '--data', s.t.data, '--key', s.t.pub, '--signers', join(s.t.data, 'keys/signers.pub'), '--json']);
  assert.equal(pinned.code, 0, pinned.stdout);
  assert.ok(!(JSON.parse(pinned.stdout) as { warnings: { code: string }[] }).warnings.some((w) => w.code === 'V_SIGNERS_NOT_PINNED'));
});

test('[URS-P11-110] sign: a wrong passphrase is refused (E_SIGNER_PASSPHRASE) and nothing is sealed', async () => {
  const s = await copy();
  writeConfig(s.t);
  const d = await start(s.t);
  const wrong = join(s.t.dir, 'wrong');
  writeFileSync(wrong, 'not the passphrase\n');
  const r = await sign(s.t, s.key, wrong, ['--name', NAME, '--meaning', 'review', '--seq', '3']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /E_SIGNER_PASSPHRASE/);
  const badName = await sign(s.t, s.key, s.passFile, ['--name', 'Someone Else', '--meaning', 'review', '--seq', '3']);
  assert.equal(badName.code, 2, "a printed name other than the key's is a usage error");
  const notThere = await sign(s.t, s.key, s.passFile, ['--name', NAME, '--meaning', 'review', '--seq', '999']);
  assert.equal(notThere.code, 2);
  assert.match(notThere.stderr, /record 999 is not in the log/);
  assert.equal(await d.stop(), 0);
  assert.equal(readRecords(s.t).filter((r) => r.type === 'sealog.signature').length, 1, 'only the original signature');
});

test('[URS-P11-070] sign: a signer not registered with this log is refused by the daemon (E_SIGNER_UNKNOWN)', async () => {
  const s = await copy();
  writeConfig(s.t);
  const d = await start(s.t);
  const elsewhere = fresh();
  const key = join(s.t.dir, 'mallory.signer');
  const passFile = signerAdd(s.t, 'Mallory', key, PASS, elsewhere.data);
  const r = await sign(s.t, key, passFile, ['--name', 'Mallory', '--meaning', 'approval', '--seq', '3']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /E_SIGNER_UNKNOWN/);
  assert.equal(await d.stop(), 0);
});

test('[URS-P11-070] verify: a signature whose signer is not registered fails V_SIGNATURE_INVALID naming signer and seq', async () => {
  const s = await copy();
  const empty = join(s.t.dir, 'no-signers.pub');
  writeFileSync(empty, '# nobody\n');
  const r = cli(['verify', '--data', s.data, '--key', s.t.pub, '--signers', empty, '--json']);
  assert.equal(r.code, 1);
  const v = JSON.parse(r.stdout) as { failure: { code: string; seq: number; message: string } };
  assert.equal(v.failure.code, 'V_SIGNATURE_INVALID');
  assert.equal(v.failure.seq, s.sigSeq);
  assert.match(v.failure.message, new RegExp(`${NAME.replace('.', '\\.')}.*not registered`));
});

test('[URS-P11-010] [URS-P11-090] verify: a signature record edited and the log re-sealed with the log key fails V_SIGNATURE_INVALID', async () => {
  const s = await copy();
  resealLog(s.data, (r) => {
    if (r.seq === s.sigSeq) r.event.meaning = 'authorship';
  });
  const v = verify(s.t);
  assert.equal(v.failure?.code, 'V_SIGNATURE_INVALID', JSON.stringify(v));
  assert.equal(v.failure.seq, s.sigSeq);
  assert.match(v.failure.message, /Ann Q\. Reviewer.*does not verify/);
});

test('[URS-P11-010] [URS-P11-100] verify: a signed record altered (and the log re-sealed) fails V_SIGNATURE_INVALID', async () => {
  const s = await copy();
  resealLog(s.data, (r) => {
    if (r.seq === 2) r.event.i = 200;
  });
  const v = verify(s.t);
  assert.equal(v.failure?.code, 'V_SIGNATURE_INVALID', JSON.stringify(v));
  assert.equal(v.failure.seq, s.sigSeq);
  assert.match(v.failure.message, /signed record 2 has hash .* not the .* that was signed/);
});

test('[URS-P11-100] verify: a signature copied onto another record fails V_SIGNATURE_INVALID', async () => {
  const s = await copy();
  const hashes = new Map(readRecords(s.t).map((r) => [r.seq as number, r.hash as string]));
  // The forger points the signature at record 4 (with record 4's true hash), keeping the signature value.
  resealLog(s.data, (r) => {
    if (r.seq === s.sigSeq) r.event.records = [{ seq: 4, hash: hashes.get(4)! }];
  });
  const v = verify(s.t);
  assert.equal(v.failure?.code, 'V_SIGNATURE_INVALID', JSON.stringify(v));
  assert.equal(v.failure.seq, s.sigSeq);
  assert.match(v.failure.message, /does not verify/);
});

test('signer and sign: --help explains, usage errors exit 2', () => {
  for (const cmd of ['signer', 'sign']) {
    const h = cli([cmd, '--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, new RegExp(`^sealog ${cmd} `));
    assert.equal(cli([cmd, '--bogus']).code, 2);
  }
  assert.equal(cli(['signer', 'frob']).code, 2);
  assert.equal(cli(['sign', '--key', 'k', '--name', 'n', '--meaning', 'liking', '--seq', '1']).code, 2);
});
