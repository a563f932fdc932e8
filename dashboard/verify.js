// Verification of a sealog inclusion bundle (DESIGN §10) in the browser, with
// WebCrypto only, against a key the user pinned: the port of the CHECK of
// src/read/proofs.ts and the record rules of DESIGN §2. Nothing the server says
// is trusted: the leaf hash, the path to the root and the checkpoint's Ed25519
// signature are all recomputed here.

const enc = new TextEncoder();
const subtle = globalThis.crypto.subtle;

const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const hex = (u8) => Array.from(u8, (b) => b.toString(16).padStart(2, '0')).join('');
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const sha256 = async (u8) => new Uint8Array(await subtle.digest('SHA-256', u8));
const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

/** RFC 8785 canonical JSON: sorted keys (UTF-16 order), ECMAScript number and string forms. */
export function jcs(v) {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(jcs).join(',')}]`;
  return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${jcs(v[k])}`).join(',')}}`;
}

/** A signed-note verifier key: name+hexid+base64(0x01 ‖ 32-byte Ed25519 key), its id checked. */
export async function parseKey(text) {
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(String(text).trim());
  if (!m) throw new Error('the pinned key is not in the form name+keyid+base64');
  const raw = b64(m[3]);
  if (raw.length !== 33 || raw[0] !== 0x01) throw new Error('the pinned key is not an Ed25519 signed-note key');
  const id = (await sha256(concat(enc.encode(m[1]), enc.encode('\n'), raw))).slice(0, 4);
  if (hex(id) !== m[2]) throw new Error('the pinned key\'s id does not match its name and key');
  const key = await subtle.importKey('raw', raw.slice(1), { name: 'Ed25519' }, false, ['verify']);
  return { name: m[1], id: m[2], idBytes: id, key };
}

/** RFC 9162 §2.1.3.2: the root that the inclusion path leads to from the leaf. */
export async function rootFromPath(leafIndex, treeSize, leaf, path) {
  if (leafIndex >= treeSize) throw new Error(`leaf index ${leafIndex} is not below tree size ${treeSize}`);
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) throw new Error('the path is longer than the tree is deep');
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(concat([0x01], p, r));
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else r = await sha256(concat([0x01], r, p));
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new Error('the path is shorter than the tree is deep');
  return r;
}

/** The C2SP signed note of a checkpoint: origin, size, root, and the signature by the pinned key. */
async function checkCheckpoint(note, pinned) {
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n')) throw new Error('the checkpoint is not a signed note');
  const text = note.slice(0, split + 1);
  const [origin, size, root] = text.split('\n');
  const sigs = note.slice(split + 2, -1).split('\n').map((l) => /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(l)).filter(Boolean);
  const mine = sigs.map((m) => ({ name: m[1], blob: b64(m[2]) })).filter((s) => s.name === pinned.name && equal(s.blob.slice(0, 4), pinned.idBytes));
  if (!mine.length) return { origin, size: Number(size), root: b64(root ?? ''), signed: false, why: `no signature by the pinned key ${pinned.name}+${pinned.id} (signed by: ${sigs.map((m) => m[1]).join(', ') || 'nobody'})` };
  const ok = await subtle.verify('Ed25519', pinned.key, mine[0].blob.slice(4), enc.encode(text));
  return { origin, size: Number(size), root: b64(root ?? ''), signed: ok, why: ok ? `valid Ed25519 signature by ${pinned.name}+${pinned.id}` : `the signature by ${pinned.name}+${pinned.id} does not match the checkpoint text (altered)` };
}

/**
 * Checks a sealog.inclusion.v1 bundle. Returns every step with its outcome; ok only when
 * all pass. Which key was trusted is part of the answer.
 */
export async function verifyBundle(bundle, pinnedKeyText) {
  const pinned = await parseKey(pinnedKeyText);
  const steps = [];
  const step = (name, ok, detail) => steps.push({ name, ok, detail });
  if (!bundle || bundle.type !== 'sealog.inclusion.v1') throw new Error('not a sealog.inclusion.v1 bundle');
  const line = String(bundle.record).replace(/\n$/, '');
  const m = /,"hash":"([0-9a-f]{64})"\}$/.exec(line);
  let leaf = new Uint8Array(32);
  if (!m) step('record hash', false, 'the stored line does not end with its "hash" member');
  else {
    const body = `${line.slice(0, m.index)}}`;
    let parsed;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
    step('canonical form', parsed !== undefined && jcs(parsed) === body, parsed === undefined ? 'the record is not JSON' : jcs(parsed) === body ? 'the line is RFC 8785 canonical JSON' : 'the line is not in canonical form (altered)');
    leaf = await sha256(concat([0x00], enc.encode(body)));
    step('record hash', hex(leaf) === m[1], hex(leaf) === m[1] ? `SHA-256(0x00 ‖ record) = ${m[1].slice(0, 16)}…` : `the record hashes to ${hex(leaf).slice(0, 16)}…, but its hash field says ${m[1].slice(0, 16)}… (the record was altered)`);
    step('leaf index', parsed?.seq === bundle.leaf_index, `record seq ${parsed?.seq}, proof for leaf ${bundle.leaf_index}`);
  }
  const cp = await checkCheckpoint(String(bundle.checkpoint), pinned);
  step('checkpoint signature', cp.signed, cp.why);
  step('checkpoint tree size', cp.size === bundle.tree_size, `checkpoint covers ${cp.size} records, the proof is for ${bundle.tree_size}`);
  step('origin', cp.origin === bundle.origin, `checkpoint origin ${JSON.stringify(cp.origin)}`);
  try {
    const root = await rootFromPath(bundle.leaf_index, bundle.tree_size, leaf, (bundle.proof ?? []).map(b64));
    const same = equal(root, cp.root);
    step('inclusion path', same, same ? `${bundle.proof.length} hashes lead from the leaf to the signed root` : `the path leads to root ${hex(root).slice(0, 16)}…, the signed checkpoint says ${hex(cp.root).slice(0, 16)}… (the log differs from what was signed)`);
  } catch (err) {
    step('inclusion path', false, err.message);
  }
  return { ok: steps.every((s) => s.ok), keyName: pinned.name, keyId: pinned.id, steps };
}
