import { existsSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { filterSql } from '../collect/sql.js';
import { parseHmacKey } from '../crypto/pseudonym.js';
import { ErrorCode, SealogError } from '../errors.js';
import { filterFromFlags, type FlagValues } from '../read/filter.js';
import { createPrinter, FORMATS, type Format } from '../read/render.js';
import { openLine } from '../store/recordLine.js';

const PAGE = 1000;

/**
 * `sealog query --postgres URL [--origin O] [filters]` (dispatched from query.ts): the same
 * filters over the collected tables, across origins (ordered by origin, then seq). Each row's
 * stored line is hashed again before it is printed; a row that fails exits 1.
 */
export async function runPostgres(
  v: FlagValues & {
    postgres?: string;
    origin?: string;
    'hmac-key'?: string;
    format?: string;
    limit?: string;
    reverse?: boolean;
    follow?: boolean;
    'with-proof'?: boolean;
    data?: string;
  },
): Promise<number> {
  const usage = (m: string) => new SealogError(ErrorCode.USAGE, m);
  if (v.follow || v['with-proof'] || v.data)
    throw usage('--postgres takes the filters, --origin, --format, --limit and --reverse (not --data, --follow or --with-proof)');
  const format = (v.format ?? (process.stdout.isTTY ? 'table' : 'jsonl')) as Format;
  if (!FORMATS.includes(format)) throw usage(`--format must be one of ${FORMATS.join(', ')}`);
  const limit = v.limit === undefined ? Infinity : Number(v.limit);
  if (limit !== Infinity && !(Number.isSafeInteger(limit) && limit >= 0)) throw usage(`--limit must be a whole number, not ${v.limit}`);
  const filter = filterFromFlags(v, {
    hmacKey: () => {
      const path = v['hmac-key'];
      if (!path || !existsSync(path)) throw usage('--pseudonym with --postgres needs --hmac-key FILE (the key of the host that wrote the records)');
      return parseHmacKey(readFileSync(path, 'utf8'), path);
    },
  });
  const { where, params } = filterSql(filter, v.origin, 3);
  const dir = v.reverse ? 'DESC' : 'ASC';
  const cmp = v.reverse ? '<' : '>';
  const pool = new pg.Pool({ connectionString: v.postgres, max: 1 });
  const out = (s: string | Buffer) => process.stdout.write(s);
  const printer = createPrinter(format, out, { width: process.stdout.columns });
  let printed = 0;
  try {
    // Keyset pages on (origin, seq): bounded memory whatever matches.
    let after: [string, number] = v.reverse ? ['\u{10FFFF}', Number.MAX_SAFE_INTEGER] : ['', -1];
    while (printed < limit) {
      const { rows } = await pool.query<{ origin: string; seq: string; hash: string; line: string }>(
        `SELECT origin, seq, hash, line FROM sealog_records WHERE (origin, seq) ${cmp} ($1, $2) AND ${where} ORDER BY origin ${dir}, seq ${dir} LIMIT ${PAGE}`,
        [after[0], after[1], ...params],
      );
      for (const r of rows) {
        const line = Buffer.from(r.line, 'utf8');
        const o = openLine(line);
        if (typeof o === 'string' || o.hash.toString('hex') !== o.claimed || o.claimed !== r.hash || o.seq !== Number(r.seq)) {
          console.error(
            `sealog query: integrity failure: the row of origin ${r.origin}, seq ${r.seq} does not hash to its hash (edited in the database); run sealog verify --postgres`,
          );
          return 1;
        }
        await printer.record(line, Number(r.seq));
        if (++printed >= limit) break;
      }
      if (rows.length < PAGE) break;
      const last = rows[rows.length - 1]!;
      after = [last.origin, Number(last.seq)];
    }
    await printer.end();
    return 0;
  } catch (err) {
    if (err instanceof SealogError) throw err;
    throw usage(`PostgreSQL: ${(err as Error).message}`);
  } finally {
    await pool.end();
  }
}
