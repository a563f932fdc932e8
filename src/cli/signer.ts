import { ErrorCode, SealogError } from '../errors.js';
import { loadRegistry, registerSigner, signersPath } from '../sign/registry.js';
import { createSignerKey, writeSignerKey } from '../sign/signerKey.js';
import { parseFlags } from './args.js';
import { readPassphrase } from './passphrase.js';

export const help = `sealog signer add --name "Printed Name" --out FILE [--data DIR] [--passphrase-file FILE]
sealog signer list [--data DIR]

add: creates a person's electronic-signature key and registers it with the log.
  --name TEXT             the signer's printed name, as it appears on every
                          signature (21 CFR 11.50)
  --out FILE              where the signer's key goes (mode 0600): the Ed25519
                          key encrypted under the passphrase (scrypt, AES-256-GCM),
                          so signing takes both, the file and the passphrase
                          (two components, 21 CFR 11.200). Keep it with the person.
  --data DIR              the log's data directory (default ./var/data): the public
                          half and the printed name are added to DIR/keys/signers.pub
  --passphrase-file FILE  the passphrase is the first line of FILE (- for standard
                          input); without it, asked twice at the terminal
list: the registered signers, one a line: key id, key name, printed name.

Exit 0 done; 1 refused (the file exists, the key is registered to another name);
2 usage error.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    { name: { type: 'string' }, out: { type: 'string' }, data: { type: 'string' }, 'passphrase-file': { type: 'string' } },
    true,
  );
  if (values.help) {
    console.log(help);
    return 0;
  }
  const data = values.data ?? './var/data';
  const [sub, ...extra] = positionals;
  if (extra.length) throw new SealogError(ErrorCode.USAGE, `unexpected argument ${extra[0]}`);
  if (sub === 'list') {
    for (const s of await loadRegistry(signersPath(data))) console.log(`${s.key.keyId.toString('hex')}  ${s.key.name}  ${s.name}`);
    return 0;
  }
  if (sub !== 'add') throw new SealogError(ErrorCode.USAGE, 'sealog signer add|list (see --help)');
  if (!values.name) throw new SealogError(ErrorCode.USAGE, '--name "Printed Name" is required');
  if (!values.out) throw new SealogError(ErrorCode.USAGE, '--out FILE is required: where the signer key goes');
  const passphrase = await readPassphrase(values['passphrase-file'], `passphrase for ${values.name}'s signing key: `, true);
  const file = createSignerKey(values.name, passphrase);
  await writeSignerKey(values.out, file);
  await registerSigner(signersPath(data), file.public, file.name);
  console.log(JSON.stringify({ signer: file.name, key: file.public, key_file: values.out, registered_in: signersPath(data) }));
  return 0;
}
