import { readFileSync } from 'node:fs';
import { loadSchemas } from '../classify/schemas.js';
import { loadConfig } from '../config.js';
import { SealogError } from '../errors.js';
import { parseFlags } from './args.js';

export const help = `sealog validate [--config FILE]

Checks a configuration the way \`sealog start\` would load it, without starting:
every option against the schema (all errors at once), the classification rules
and the JSON Schemas in classify.schemas_dir. Without --config it checks the
embedded defaults. systemd runs it as ExecStartPre.

Exit 0: valid. Exit 1: invalid (each problem printed). Exit 2: usage error or
the file cannot be read.`;

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseFlags(argv, { config: { type: 'string', short: 'c' } }));
  } catch (err) {
    console.error(`sealog validate: ${(err as Error).message}\n\n${help}`);
    return 2;
  }
  if (values.help) {
    console.log(help);
    return 0;
  }
  const file = values.config;
  if (file) {
    try {
      readFileSync(file);
    } catch (err) {
      console.error(`sealog validate: cannot read ${file}: ${(err as Error).message}`);
      return 2;
    }
  }
  try {
    const cfg = loadConfig(file);
    loadSchemas(cfg.classify.schemas_dir);
    console.log(`sealog validate: ${file ?? 'embedded defaults'}: valid (data ${cfg.data_dir}, socket ${cfg.socket.path}, origin ${cfg.origin})`);
    return 0;
  } catch (err) {
    if (!(err instanceof SealogError)) throw err;
    console.error(`sealog validate: ${err.message}`);
    return 1;
  }
}
