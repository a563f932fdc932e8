import { ErrorCode, SealogError } from '../errors.js';
import { join } from 'node:path';
import { layout, listSegments } from '../store/layout.js';
import { segmentRecords } from '../store/records.js';

// INTERIM until the query engine (src/read/) lands: the period's records in seq order.
export async function* periodRecords(data: string, o: { from?: number; to?: number; frameCap: number }): AsyncGenerator<{ record: Record<string, any>; line: Buffer }> {
  const l = layout(data);
  for (const { name } of await listSegments(l)) {
    for await (const f of segmentRecords(join(l.segments, name), o.frameCap)) {
      if (!('lines' in f)) break;
      for (const line of f.lines) {
        const record = JSON.parse(line.toString('utf8')) as Record<string, any>;
        const ms = Date.parse(record.ts);
        if ((o.from === undefined || ms >= o.from) && (o.to === undefined || ms < o.to)) yield { record, line };
      }
    }
  }
}

// INTERIM until src/read/filter.ts (parseTime) lands.
export function parseReportTime(text: string, flag: string): number {
  const ms = Date.parse(/^\d{4}-\d\d-\d\d$/.test(text) ? `${text}T00:00:00Z` : text);
  if (!/^\d{4}-\d\d-\d\d([Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d))?$/.test(text) || Number.isNaN(ms)) {
    throw new SealogError(ErrorCode.USAGE, `${flag} ${JSON.stringify(text)} is not an RFC 3339 time (2026-11-23T10:00:00Z) or a date`);
  }
  return ms;
}
