import { existsSync, readFileSync } from 'node:fs';
import { parseHmacKey } from '../crypto/pseudonym.js';
import { ErrorCode, SealogError } from '../errors.js';
import { filterFromFlags } from '../read/filter.js';
import { follow, query, type QueryProgress } from '../read/query.js';
import { createPrinter, FORMATS, type Format } from '../read/render.js';
import { openTrail, TrailError } from '../read/trail.js';
import { inclusionPrinter } from '../read/withProof.js';
import { parseFlags } from './args.js';

export const help = `sealog query [--data DIR] [filters] [--format table|jsonl|json|csv] [--limit N] [--reverse] [--follow] [--with-proof]

Finds records in the trail: a live daemon's data directory (committed frames
only; the writer is never blocked) or an archive. Every record printed has been
checked first: its hash recomputed from the stored line, its prev matched to
the record before it where that one was read.

Filters (all combinable: a record must pass each one given):
  --since T, --until T   on the record's ts (since <= ts < until); T is RFC 3339
                         (2026-11-23T10:00:00Z, 2026-11-23) or relative to now (15m, 2h, 7d)
  --seq A..B             seq range (A.., ..B and N also work)
  --stream S             repeatable, any of them (application, audit, security, rejected)
  --type GLOB            repeatable, any of them (* and ? wildcards: 'Agent*Event')
  --level L              L or more severe (trace debug info warn error fatal)
  --field PATH=VALUE     repeatable, all of them; PATH dotted from the record's root
                         (event.correlation_id, source.peer.uid); VALUE is JSON when it
                         parses (42, true, "42"), else a string
  --text STR             a substring of the stored line
  --pseudonym KIND:VALUE repeatable, any of them: records holding the HMAC pseudonym of
                         VALUE (email:ann@example.com, phone:+1 555 0100, name:Ann Lee),
                         computed with --hmac-key (default DIR/keys/hmac.key): the trail
                         never stores the value itself

Output:
  --format F      table (default at a terminal), jsonl (default when piped: the stored
                  lines byte for byte), json (one array), csv
  --limit N       at most N records
  --reverse       newest first
  --follow        after the matches so far, keep printing records as they commit
                  (like journalctl -f); stop with Ctrl-C
  --with-proof    print, for each record, its inclusion bundle (sealog.inclusion.v1, as
                  sealog prove prints it) against the newest checkpoint; a record past it
                  prints as {"type":"sealog.unsealed.v1",...}: wait for the next checkpoint

The index under DIR/index/ only makes this faster: a damaged one is ignored
(with a warning) and rebuilt; sealog index rebuild writes them all anew.
Progress goes to stderr when it is a terminal.

Exit 0 (also when nothing matches); 1 a record read fails its hash or chain
check (naming seq, segment and byte offset; nothing unchecked is printed);
2 usage or I/O error.

sealog query --postgres URL [--origin O] [filters] [--format F] [--limit N] [--reverse]
searches what sealog collect (or a postgres sink) gathered, across origins or one
(docs/collect.md): the same filters, as SQL over the stored lines and the event
JSONB column. --pseudonym needs --hmac-key of the host that wrote the records.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    data: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    seq: { type: 'string' },
    stream: { type: 'string', multiple: true },
    type: { type: 'string', multiple: true },
    level: { type: 'string' },
    field: { type: 'string', multiple: true },
    text: { type: 'string' },
    pseudonym: { type: 'string', multiple: true },
    'hmac-key': { type: 'string' },
    format: { type: 'string' },
    limit: { type: 'string' },
    reverse: { type: 'boolean' },
    follow: { type: 'boolean' },
    'with-proof': { type: 'boolean' },
    postgres: { type: 'string' },
    origin: { type: 'string' },
  });
  if (values.help) {
    console.log(help);
    return 0;
  }
  if (values.postgres) return (await import('./queryPostgres.js')).runPostgres(values);
  if (values.origin) throw new SealogError(ErrorCode.USAGE, '--origin applies to --postgres');
  const usage = (m: string) => new SealogError(ErrorCode.USAGE, m);
  const data = values.data ?? './var/data';
  if (!existsSync(data)) throw usage(`no data directory at ${data}`);
  const format = (values.format ?? (process.stdout.isTTY ? 'table' : 'jsonl')) as Format;
  if (!FORMATS.includes(format)) throw usage(`--format must be one of ${FORMATS.join(', ')}`);
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 0)) throw usage(`--limit must be a whole number, not ${values.limit}`);
  if (values.follow && values.reverse) throw usage('--follow reads forward: it cannot be combined with --reverse');
  const hmacPath = values['hmac-key'] ?? `${data}/keys/hmac.key`;
  const filter = filterFromFlags(values, {
    hmacKey: () => {
      if (!existsSync(hmacPath)) throw usage(`--pseudonym needs the HMAC key: no ${hmacPath} (give --hmac-key FILE)`);
      return parseHmacKey(readFileSync(hmacPath, 'utf8'), hmacPath);
    },
  });

  const trail = openTrail(data);
  const out = (s: string | Buffer) => process.stdout.write(s);
  const printer = values['with-proof'] ? inclusionPrinter(trail, format, out) : createPrinter(format, out, { width: process.stdout.columns });
  const tty = process.stderr.isTTY && !values.follow;
  let shown = 0;
  const onProgress = tty
    ? (p: QueryProgress) => {
        const now = Date.now();
        if (now - shown < 200) return;
        shown = now;
        process.stderr.write(`\rscanning segment ${p.segment}/${p.segments}: ${p.frames} frames, ${(p.bytes / 1e6).toFixed(1)} MB read, ${p.matched} matched `);
      }
    : undefined;
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop).once('SIGTERM', stop);
  try {
    const opts = { filter, limit, reverse: values.reverse ?? false, onProgress };
    const records = values.follow ? follow(trail, { ...opts, signal: controller.signal }) : query(trail, opts);
    for await (const r of records) await printer.record(r.line, r.seq);
    await printer.end();
  } catch (err) {
    if (!(err instanceof TrailError)) throw err;
    if (shown) process.stderr.write('\n');
    const f = err.finding;
    console.error(
      `sealog query: integrity failure ${f.code}: ${f.message}\n  at ${f.seq !== undefined ? `seq ${f.seq}, ` : ''}segment ${f.segment}, byte ${f.offset}\n  (records after it were not printed; run sealog verify for the whole log)`,
    );
    // A failed command exits at once (main.ts): first let a pipe take every record already printed.
    await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
    return 1;
  } finally {
    process.off('SIGINT', stop).off('SIGTERM', stop);
  }
  if (shown) process.stderr.write('\n');
  return 0;
}
