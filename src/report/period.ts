import { emptyFilter } from '../read/filter.js';
import { query } from '../read/query.js';
import { openTrail, TrailError, type Finding } from '../read/trail.js';

/**
 * The period's records through the query engine (src/read/), the same filter `sealog query
 * --since F --until T` applies (from <= ts < to), so a report's counts equal what query finds.
 * Each record is checked before it is handed out; damage ends the walk with its finding.
 */
export async function* periodRecords(
  data: string,
  o: { from?: number; to?: number; frameCap: number; onStop(f: Finding): void; onWarning?(message: string): void },
): AsyncGenerator<{ record: Record<string, any>; line: Buffer }> {
  const trail = openTrail(data, { frameCap: o.frameCap, onWarning: o.onWarning });
  try {
    for await (const r of query(trail, { filter: { ...emptyFilter(), since: o.from, until: o.to } })) {
      yield { record: JSON.parse(r.line.toString('utf8')) as Record<string, any>, line: r.line };
    }
  } catch (err) {
    if (!(err instanceof TrailError)) throw err;
    o.onStop(err.finding);
  }
}
