import { ErrorCode, SealogError } from '../errors.js';

const commands: Record<string, () => Promise<{ run(argv: string[]): Promise<number>; help: string }>> = {
  start: () => import('./start.js'),
  send: () => import('./send.js'),
  verify: () => import('./verify.js'),
  keygen: () => import('./keygen.js'),
  validate: () => import('./validate.js'),
  status: () => import('./status.js'),
  hold: () => import('./hold.js'),
  release: () => import('./release.js'),
  holds: () => import('./holds.js'),
  'rotate-key': () => import('./rotateKey.js'),
  query: () => import('./query.js'),
  prove: () => import('./prove.js'),
  'check-proof': () => import('./checkProof.js'),
  tiles: () => import('./tiles.js'),
  index: () => import('./index.js'),
  collect: () => import('./collect.js'),
  signer: () => import('./signer.js'),
  sign: () => import('./sign.js'),
  report: () => import('./report.js'),
  token: () => import('./token.js'),
};

const usage = `sealog: a tamper-evident, append-only, compressed audit trail for NDJSON event streams

usage: sealog <command> [options]     (sealog <command> --help for each)

  start    run the daemon (socket in, sealed LZ4 segments out)
  send     send NDJSON lines to the daemon, optionally waiting for durable acks
  verify   check a log offline against a pinned public key
  keygen   create the signing and HMAC keys
  validate check a configuration file without starting (systemd ExecStartPre)
  status   ask the running daemon how it is doing (health, counts, queues)
  hold     place a legal hold that retention must respect
  release  release a legal hold
  holds    list legal holds, active and requested
  rotate-key  create a new signing key; the daemon seals the transition and signs with it
  query    find records (filters, table or stored lines, --follow, --with-proof)
  prove    print an inclusion or consistency proof bundle
  check-proof  check a proof bundle offline against a pinned key
  tiles    write the trail as C2SP tlog-tiles
  index    rebuild the query index (a cache)
  signer   add a person's passphrase-protected signing key and register it (signer add|list)
  sign     sign records electronically (21 CFR Part 11): the daemon seals the signature
  report   a compliance report (part11, annex11, alcoa, hipaa, soc2, gdpr), HTML or JSON
  collect  gather many hosts' trails from NATS JetStream into PostgreSQL, verified per origin
  token    create, list or revoke bearer tokens for the HTTP API and dashboard`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(usage);
    return cmd ? 0 : 2;
  }
  const load = commands[cmd];
  if (!load) {
    console.error(`sealog: unknown command '${cmd}'\n\n${usage}`);
    return 2;
  }
  try {
    return await (await load()).run(rest);
  } catch (err) {
    const code = err instanceof SealogError ? ` [${err.code}]` : '';
    console.error(`sealog ${cmd}: ${(err as Error).message}${code}`);
    return cmd === 'verify' || !(err instanceof SealogError) || err.code === ErrorCode.USAGE ? 2 : 1;
  }
}

const code = await main(process.argv.slice(2));
// A failed command exits now, even if something it started still holds the event loop
// (stderr is synchronous for files, pipes and terminals on Linux, so nothing is lost).
if (code !== 0) process.exit(code);
