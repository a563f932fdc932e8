/**
 * How query prints records: a table for a person, stored lines or JSON for a program.
 *
 * Exported API
 * - `FORMATS`: `table`, `jsonl` (the stored lines byte for byte, one per line), `json` (one array
 *   of the parsed records), `csv` (the table's columns, RFC 4180 quoting).
 * - `createPrinter(format, write, { width })` → `Printer` `{ record(line, seq), end() }`: writes as it goes
 *   (nothing is held but the table's header state), so a follow never waits for the end.
 * - `rowOf(record)`: the table/csv columns of one record: seq, ts, stream, level, type, who, summary.
 */
export const FORMATS = ['table', 'jsonl', 'json', 'csv'] as const;
export type Format = (typeof FORMATS)[number];

export interface Printer {
  record(line: Buffer, seq: number): void | Promise<void>;
  end(): void | Promise<void>;
}

const COLUMNS = ['seq', 'ts', 'stream', 'level', 'type', 'who', 'summary'] as const;
type Row = Record<(typeof COLUMNS)[number], string>;

const SUMMARY_FIELDS = ['message', 'msg', 'summary', 'action', 'decision', 'step', 'status', 'text'];

/** What a person scans for: who acted (ALCOA+ who, else the common actor fields) and a one-line summary. */
export function rowOf(r: Record<string, any>): Row {
  const e = r.event && typeof r.event === 'object' ? r.event : {};
  const who = r.meta?.alcoa?.who ?? e.actor ?? e.user_id ?? e.agent_id ?? e.agent_name ?? e.agent ?? '';
  let summary = '';
  for (const k of SUMMARY_FIELDS) {
    const v = e[k] ?? e.payload?.[k];
    if (typeof v === 'string' && v) {
      summary = v;
      break;
    }
  }
  if (!summary) summary = JSON.stringify(e);
  const flat = (v: unknown) =>
    String(typeof v === 'object' && v !== null ? JSON.stringify(v) : (v ?? '')).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ');
  return { seq: String(r.seq), ts: flat(r.ts), stream: flat(r.stream), level: flat(r.level), type: flat(r.type), who: flat(who), summary: flat(summary) };
}

// Fixed widths for the narrow columns; type and who get what is left, summary the rest.
const WIDTH = { seq: 8, ts: 27, stream: 11, level: 5 };

function cut(s: string, w: number): string {
  return s.length <= w ? s.padEnd(w) : `${s.slice(0, Math.max(0, w - 1))}…`;
}

export function createPrinter(format: Format, write: (s: string | Buffer) => void, opts: { width?: number } = {}): Printer {
  switch (format) {
    case 'jsonl':
      return { record: (line) => write(Buffer.concat([line, NL])), end: () => {} };
    case 'json': {
      let first = true;
      return {
        record(line) {
          write(first ? '[\n' : ',\n');
          write(line);
          first = false;
        },
        end: () => write(first ? '[]\n' : '\n]\n'),
      };
    }
    case 'csv': {
      write(`${COLUMNS.join(',')}\n`);
      const q = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
      return { record: (line) => write(`${COLUMNS.map((c) => q(rowOf(parse(line))[c])).join(',')}\n`), end: () => {} };
    }
    case 'table': {
      const total = Math.max(80, opts.width ?? 120);
      const rest = total - (WIDTH.seq + WIDTH.ts + WIDTH.stream + WIDTH.level) - 6;
      const typeW = Math.min(28, Math.floor(rest * 0.3));
      const whoW = Math.min(22, Math.floor(rest * 0.2));
      const sumW = Math.max(10, rest - typeW - whoW);
      const fmt = (row: Row) =>
        `${row.seq.padStart(WIDTH.seq)} ${cut(row.ts, WIDTH.ts)} ${cut(row.stream, WIDTH.stream)} ${cut(row.level, WIDTH.level)} ${cut(row.type, typeW)} ${cut(row.who, whoW)} ${cut(row.summary, sumW).trimEnd()}\n`;
      write(fmt({ seq: 'SEQ', ts: 'TS', stream: 'STREAM', level: 'LEVEL', type: 'TYPE', who: 'WHO', summary: 'SUMMARY' }));
      return { record: (line) => write(fmt(rowOf(parse(line)))), end: () => {} };
    }
  }
}

const NL = Buffer.from('\n');
const parse = (line: Buffer) => JSON.parse(line.toString('utf8')) as Record<string, any>;
