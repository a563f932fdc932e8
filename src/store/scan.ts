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
  for await (const r of scan(l, frameCap, skip)) if (r.seq >= fromSeq) yield r;
}

/**
 * The records of the segments written to at or after sinceMs, in order, for
 * state that covers a recent time window. A segment last modified before then
 * holds only older records, and is not read. With `mustContain`, only lines
 * holding that text are parsed (the others cannot matter and cost the most).
 */
export async function* recentRecords(l: Layout, sinceMs: number, frameCap: number, mustContain?: string): AsyncGenerator<Record<string, any>> {
  const skip = async (_n: number, path: string) => (await stat(path)).mtimeMs < sinceMs;
  yield* scan(l, frameCap, skip, mustContain === undefined ? undefined : Buffer.from(mustContain));
}

async function* scan(l: Layout, frameCap: number, skip: (n: number, path: string) => Promise<boolean>, mustContain?: Buffer): AsyncGenerator<Record<string, any>> {
  for (const { n, name } of await listSegments(l)) {
    const path = join(l.segments, name);
    if (await skip(n, path)) continue;
    for await (const f of segmentRecords(path, frameCap)) {
      if (!('lines' in f)) throw new Error(`${name} at byte ${f.offset}: ${f.reason}`);
      for (const line of f.lines) {
        if (mustContain && !line.includes(mustContain)) continue;
        yield JSON.parse(line.toString('utf8')) as Record<string, any>;
      }
    }
  }
}
