import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { noSpans } from '../crypto/canonicalScan.js';
import { listRemoved, listSegments, manifestName, type Layout } from '../store/layout.js';
import { readOwnManifest } from '../store/manifest.js';
import { segmentRecords } from '../store/records.js';
import { openLine, sealedLine } from '../store/recordLine.js';

export interface RecordHashes {
  /** seq → hash recomputed from the stored line (a line whose hash field disagrees is left out). */
  hashes: Map<number, string>;
  /** Wanted seqs that lie in segments retention removed. */
  removed: Set<number>;
}

/**
 * The hashes of the records with the wanted seqs, recomputed from their stored lines.
 * Closed segments whose signed manifest says they hold none of them are not read; a
 * live log's last frame may be mid-write, so a segment's walk ends at its first fault.
 */
export async function recordHashes(l: Layout, wanted: ReadonlySet<number>, frameCap: number): Promise<RecordHashes> {
  const hashes = new Map<number, string>();
  const removed = new Set<number>();
  if (!wanted.size) return { hashes, removed };
  const sorted = [...wanted].sort((a, b) => a - b);
  const any = (first: number, last: number) => sorted.some((s) => s >= first && s <= last);
  for (const { n } of await listRemoved(l)) {
    const m = await readFile(join(l.removed, manifestName(n))).then(readOwnManifest, () => undefined);
    if (m) for (const s of sorted) if (s >= m.first_seq && s <= m.last_seq) removed.add(s);
  }
  const leaf = new Uint8Array(32);
  const spans = noSpans();
  for (const { n, name } of await listSegments(l)) {
    const m = await readFile(join(l.segments, manifestName(n))).then(readOwnManifest, () => undefined);
    if (m && !any(m.first_seq, m.last_seq)) continue;
    for await (const f of segmentRecords(join(l.segments, name), frameCap)) {
      if (!('lines' in f)) break;
      for (const line of f.lines) {
        let seq = sealedLine(line, leaf, spans);
        let hash = seq >= 0 ? Buffer.from(leaf).toString('hex') : undefined;
        if (seq < 0) {
          const r = openLine(line);
          if (typeof r === 'string' || r.hash.toString('hex') !== r.claimed) continue;
          seq = r.seq;
          hash = r.claimed;
        }
        if (wanted.has(seq)) hashes.set(seq, hash!);
      }
    }
    if (hashes.size + removed.size === wanted.size) break;
  }
  return { hashes, removed };
}
