import { hostname } from 'node:os';
import { writeKeys } from '../crypto/keyFiles.js';
import { layout } from '../store/layout.js';
import { parseFlags } from './args.js';

export const help = `sealog keygen [--data DIR] [--name NAME] [--force]

Creates a new Ed25519 signing key and HMAC pseudonymization key under DIR/keys
(default ./var/data/keys), every file mode 0600:
  signing.key  the private key (PRIVATE+KEY+<name>+<id>+<base64>), never share it
  signing.pub  the public key in signed-note verifier form <name>+<id>+<base64>:
               the one file an auditor needs, to pass as sealog verify --key
  hmac.key     the pseudonymization key
NAME defaults to sealog/<hostname> and should equal the log's origin.
Refuses to replace existing keys unless --force is given.

Exit 0 written; 1 keys exist already (E_KEY_EXISTS) or cannot be written; 2 usage error.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { data: { type: 'string' }, name: { type: 'string' }, force: { type: 'boolean' } });
  if (values.help) {
    console.log(help);
    return 0;
  }
  const l = layout(values.data ?? './var/data');
  const { verifierKey } = await writeKeys(l, values.name ?? `sealog/${hostname()}`, values.force ?? false);
  console.log(`wrote ${l.signingKey}, ${l.publicKey}, ${l.hmacKey}`);
  console.log(`public key: ${verifierKey}`);
  return 0;
}
