import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { ErrorCode, SealogError } from '../errors.js';

// Keys in the C2SP signed-note encodings, so other transparency-log tools read them:
//   verifier key: <name>+<hex key id>+<base64(0x01 ‖ 32-byte public key)>
//   signer key:   PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 ‖ 32-byte seed)>
const ED25519 = 0x01;

export interface Verifier {
  name: string;
  keyId: Buffer;
  publicKey: KeyObject;
  text: string;
  verify(message: Buffer, signature: Buffer): boolean;
}

export interface Signer {
  name: string;
  keyId: Buffer;
  sign(message: Buffer): Buffer;
  verifierKey: string;
}

export function keyId(name: string, rawPublic: Buffer): Buffer {
  return createHash('sha256')
    .update(name)
    .update('\n')
    .update(Buffer.from([ED25519]))
    .update(rawPublic)
    .digest()
    .subarray(0, 4);
}

export function checkKeyName(name: string): void {
  if (!name || /[\s+]/.test(name) || /[\u0000-\u001f]/.test(name)) {
    throw new SealogError(ErrorCode.KEY_INVALID, `key name ${JSON.stringify(name)} must be non-empty, without spaces or '+'`);
  }
}

export function generateKeys(name: string): { signerKey: string; verifierKey: string; hmacKey: string } {
  checkKeyName(name);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const id = keyId(name, pub).toString('hex');
  return {
    signerKey: `PRIVATE+KEY+${name}+${id}+${Buffer.concat([Buffer.from([ED25519]), seed]).toString('base64')}`,
    verifierKey: `${name}+${id}+${Buffer.concat([Buffer.from([ED25519]), pub]).toString('base64')}`,
    hmacKey: randomBytes(32).toString('hex'),
  };
}

function splitKey(text: string, prefix: string): { name: string; id: Buffer; raw: Buffer } {
  // The base64 part may itself contain '+': split only the name and id off the front.
  const m = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(text.trim().slice(prefix.length));
  if (!text.trim().startsWith(prefix) || !m) throw new SealogError(ErrorCode.KEY_INVALID, `key is not in signed-note form ${prefix}name+keyid+base64`);
  const [, name, hexId, b64] = m as unknown as [string, string, string, string];
  checkKeyName(name);
  const data = Buffer.from(b64, 'base64');
  if (data.length !== 33 || data[0] !== ED25519 || data.toString('base64') !== b64) {
    throw new SealogError(ErrorCode.KEY_INVALID, 'key is not an Ed25519 signed-note key');
  }
  return { name, id: Buffer.from(hexId, 'hex'), raw: data.subarray(1) };
}

export function parseVerifierKey(text: string): Verifier {
  const { name, id, raw } = splitKey(text, '');
  if (!keyId(name, raw).equals(id)) throw new SealogError(ErrorCode.KEY_INVALID, 'verifier key id does not match its name and public key');
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
  return {
    name,
    keyId: id,
    publicKey,
    text: text.trim(),
    verify: (message, signature) => signature.length === 64 && verify(null, message, publicKey, signature),
  };
}

export function parseSignerKey(text: string): Signer {
  const { name, id, raw } = splitKey(text, 'PRIVATE+KEY+');
  const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: raw.toString('base64url'), x: derivePublic(raw) }, format: 'jwk' });
  const pub = Buffer.from(createPublicKey(privateKey).export({ format: 'jwk' }).x!, 'base64url');
  if (!keyId(name, pub).equals(id)) throw new SealogError(ErrorCode.KEY_INVALID, 'signing key id does not match its name and key');
  return {
    name,
    keyId: id,
    sign: (message) => sign(null, message, privateKey),
    verifierKey: `${name}+${id.toString('hex')}+${Buffer.concat([Buffer.from([ED25519]), pub]).toString('base64')}`,
  };
}

// Node wants both halves of a JWK; derive the public half from the seed via a PKCS#8 import.
function derivePublic(seed: Buffer): string {
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  return createPublicKey(key).export({ format: 'jwk' }).x!;
}
