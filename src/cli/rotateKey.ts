import { loadConfig } from '../config.js';
import { prepareRotation } from '../crypto/keyFiles.js';
import { layout } from '../store/layout.js';
import { parseFlags } from './args.js';

export const help = `sealog rotate-key [--config FILE] [--data DIR] [--name NAME]

Creates a new Ed25519 signing key and a key-transition note signed by the old
key and the new one, beside the current key in DIR/keys (next.key, next.pub,
transition.note). The daemon takes it over, and seals the note into the log as
a sealog.key.transition audit record, at its next start, or while it runs at
its next requests pickup (requests.schedule, every 10 s by default). From then
on every checkpoint and manifest is signed with the new key, the old private
key is deleted, and DIR/keys/ring.pub lists both public keys: give that file to
sealog verify --key. NAME defaults to the current key's name. The HMAC
pseudonymization key is not changed (pseudonyms stay comparable).

Exit 0 prepared; 1 refused (a rotation already pending, no usable signing key);
2 usage error.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { config: { type: 'string', short: 'c' }, data: { type: 'string' }, name: { type: 'string' } });
  if (values.help) {
    console.log(help);
    return 0;
  }
  const cfg = loadConfig(values.config, { data: values.data });
  const l = layout(cfg.data_dir);
  const p = await prepareRotation(l, cfg.origin, values.name);
  console.log(`new public key: ${p.newKey}`);
  console.log(`retiring:       ${p.oldKey}`);
  console.log(`pending in ${l.keys}; the daemon finishes the rotation at its next start or requests pickup`);
  return 0;
}
