import { readFile } from 'node:fs/promises';
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
  for (const { n, name } of await listSegments(l)) {
    const manifest = await readFile(join(l.segments, manifestName(n))).then(readOwnManifest, () => undefined);
    if (manifest && manifest.last_seq < fromSeq) continue;
    for await (const f of segmentRecords(join(l.segments, name), frameCap)) {
      if (!('lines' in f)) throw new Error(`${name} at byte ${f.offset}: ${f.reason}`);
      for (const line of f.lines) {
        const r = JSON.parse(line.toString('utf8')) as Record<string, any>;
        if (r.seq >= fromSeq) yield r;
      }
    }
  }
}
