import pg from 'pg';
import { verifyPostgres, type PgFinding } from '../collect/pgVerify.js';
import { ErrorCode, SealogError } from '../errors.js';
import { keyRing } from './verify.js';

/** `sealog verify --postgres URL --origin O --key PUB [--strict] [--json]` (dispatched from verify.ts). */
export async function runPostgres(v: {
  postgres?: string;
  origin?: string;
  key?: string[];
  strict?: boolean;
  json?: boolean;
  data?: string;
  checkpoint?: string;
}): Promise<number> {
  if (v.data || v.checkpoint) throw new SealogError(ErrorCode.USAGE, '--postgres verifies the database: --data and --checkpoint do not apply');
  if (!v.origin || !v.key?.length)
    throw new SealogError(ErrorCode.USAGE, '--postgres needs --origin ORIGIN and --key PUB (both pinned: nothing is taken from the database)');
  const pool = new pg.Pool({ connectionString: v.postgres, max: 1 });
  try {
    const verdict = await verifyPostgres(pool, v.origin, keyRing(v.key), !!v.strict);
    if (v.json) console.log(JSON.stringify(verdict));
    else {
      const where = (f: PgFinding) =>
        [`origin ${f.origin}`, f.seq !== undefined && `seq ${f.seq}`, f.tree_size !== undefined && `checkpoint tree size ${f.tree_size}`]
          .filter(Boolean)
          .join(', ');
      const lines = [
        verdict.ok ? 'INTACT' : 'FAILED',
        `  origin     ${verdict.origin} (pinned) in PostgreSQL`,
        `  records    ${verdict.records}`,
        `  checkpoints ${verdict.checkpoints}, sealed through tree size ${verdict.sealedThrough}`,
      ];
      if (verdict.ok) lines.push(`  root       ${verdict.root} at tree size ${verdict.records}`);
      if (verdict.failure) lines.push(`  failure    ${verdict.failure.code}: ${verdict.failure.message}`, `             at ${where(verdict.failure)}`);
      for (const w of verdict.warnings) lines.push(`  warning    ${w.code}: ${w.message}`);
      console.log(lines.join('\n'));
    }
    return verdict.ok ? 0 : 1;
  } catch (err) {
    throw new SealogError(ErrorCode.USAGE, `PostgreSQL: ${(err as Error).message}`);
  } finally {
    await pool.end();
  }
}
