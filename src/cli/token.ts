import { ErrorCode, SealogError } from '../errors.js';
import { createToken, readTokens, revokeToken } from '../http/tokens.js';
import { isRole, ROLES } from '../http/roles.js';
import { layout } from '../store/layout.js';
import { parseFlags } from './args.js';

export const help = `sealog token create --role ROLE [--name NAME] [--data DIR]
sealog token list [--data DIR] [--json]
sealog token revoke ID|NAME [--data DIR]

Bearer tokens for the HTTP API and the dashboard. create prints the new token
once: only its SHA-256 is kept (DIR/keys/tokens.json, mode 0600), so a lost
token is revoked and replaced, never recovered. The running daemon sees a new
or revoked token within a second.

Roles (${ROLES.join(', ')}):
  auditor   records, proofs, checkpoint and tiles, reports, integrity
  operator  auditor + status, metrics, holds, integrity sweeps
  producer  ingest only (POST /api/v1/events, POST /v1/logs)
  admin     all of the above`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    { data: { type: 'string' }, role: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' } },
    true,
  );
  if (values.help) {
    console.log(help);
    return 0;
  }
  const l = layout(values.data ?? './var/data');
  const [sub, ...rest] = positionals;
  if (sub === 'create') {
    if (rest.length) throw new SealogError(ErrorCode.USAGE, `token create takes no positional argument (got ${rest.join(' ')})`);
    if (!values.role || !isRole(values.role)) throw new SealogError(ErrorCode.USAGE, `--role must be one of ${ROLES.join(', ')}`);
    const name = values.name ?? `${values.role}-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '')}`;
    if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(name)) throw new SealogError(ErrorCode.USAGE, '--name: 1 to 64 of A-Z a-z 0-9 _ . @ -');
    const { token, entry } = await createToken(l, values.role, name);
    if (values.json) console.log(JSON.stringify({ token, id: entry.id, name: entry.name, role: entry.role }));
    else {
      console.log(token);
      console.error(`token ${entry.id} (${entry.name}, role ${entry.role}) created; it is shown only this once`);
    }
    return 0;
  }
  if (sub === 'list') {
    const tokens = (await readTokens(l)).map(({ sha256: _, ...t }) => t);
    if (values.json) for (const t of tokens) console.log(JSON.stringify(t));
    else {
      if (!tokens.length) console.log('no tokens');
      for (const t of tokens) console.log(`${t.id}  ${t.role.padEnd(8)}  ${t.name}  (created ${t.created_at})`);
    }
    return 0;
  }
  if (sub === 'revoke') {
    if (rest.length !== 1) throw new SealogError(ErrorCode.USAGE, 'token revoke takes exactly one token id or name');
    const gone = await revokeToken(l, rest[0]!);
    console.log(`token ${gone.id} (${gone.name}, role ${gone.role}) revoked`);
    return 0;
  }
  throw new SealogError(ErrorCode.USAGE, `unknown token command ${JSON.stringify(sub ?? '')}: create, list or revoke`);
}
