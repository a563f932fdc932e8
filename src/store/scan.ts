import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { listSegments, manifestName, type Layout } from './layout.js';
import { readOwnManifest } from './manifest.js';
import { segmentRecords } from './records.js';

/**
 * Every committed record with seq >= fromSeq, parsed, in order: for sources that
 * rebuild their progress from the log at start. Closed segments that end before
 * fromSeq are skipped by their manifests, so a recent fromSeq reads little.
 * Runs after recovery, on a log the daemon has already checked.
 */
export async function* recordsFrom(l: Layout, fromSeq: number, frameCap: number): AsyncGenerator<Record<string, any>> {
  const skip = async (n: number) => {
    const manifest = await readFile(join(l.segments, manifestName(n))).then(readOwnManifest, () => undefined);
    return manifest !== undefined && manifest.last_seq < fromSeq;
  };
  for await (const line of scan(l, frameCap, skip)) {
    const r = JSON.parse(line.toString('utf8')) as Record<string, any>;
    if (r.seq >= fromSeq) yield r;
  }
}

/**
 * The record lines (unparsed) holding `mustContain`, of the segments written to at
 * or after sinceMs, in order: for state that covers a recent time window. A segment
 * last modified before then holds only older records, and is not read; parsing is
 * left to the caller, which may need only the last few of them.
 */
export async function* recentLines(l: Layout, sinceMs: number, frameCap: number, mustContain: string): AsyncGenerator<Buffer> {
  const skip = async (_n: number, path: string) => (await stat(path)).mtimeMs < sinceMs;
  const text = Buffer.from(mustContain);
  for await (const line of scan(l, frameCap, skip)) if (line.includes(text)) yield line;
}

async function* scan(l: Layout, frameCap: number, skip: (n: number, path: string) => Promise<boolean>): AsyncGenerator<Buffer> {
  for (const { n, name } of await listSegments(l)) {
    const path = join(l.segments, name);
    if (await skip(n, path)) continue;
    for await (const f of segmentRecords(path, frameCap)) {
      if (!('lines' in f)) throw new Error(`${name} at byte ${f.offset}: ${f.reason}`);
      yield* f.lines;
    }
  }
}
