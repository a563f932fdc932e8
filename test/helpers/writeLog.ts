import { mkdirSync } from 'node:fs';
import pino from 'pino';
import { loadSigner, writeKeys } from '../../src/crypto/keyFiles.js';
import { CompactTree } from '../../src/crypto/merkle.js';
import { ZERO_HASH_HEX } from '../../src/crypto/hash.js';
import { layout } from '../../src/store/layout.js';
import { SegmentStore } from '../../src/store/segmentStore.js';
import { compress } from '../../src/stages/compress.js';
import { needsRotation } from '../../src/stages/rotate.js';
import { createSealer } from '../../src/stages/seal.js';
import { serialize } from '../../src/stages/serialize.js';
import type { JsonObject, Sealed } from '../../src/types.js';

export interface LogEvent {
  event: Record<string, unknown>;
  stream?: string;
  level?: string;
  type?: string;
}

export interface WriteLogOptions {
  origin?: string;
  batch?: number;
  segmentBytes?: number;
  checkpointEvery?: number;
  /** The receive time of record i (ms since the epoch); default: now. */
  tsOf?(i: number): number;
}

/**
 * Writes a log of `n` events into a fresh data directory with the writer's own parts
 * (keys, seal, LZ4 frames, SegmentStore with its checkpoints, manifests and rotation
 * rule), without the socket and front: for logs too large to send through a daemon in
 * a test's time (a million records) and for the benchmarks. Returns the public key.
 */
export async function writeLog(data: string, n: number, eventOf: (i: number) => LogEvent, o: WriteLogOptions = {}): Promise<{ pub: string; origin: string }> {
  const origin = o.origin ?? 'sealog/test';
  const l = layout(data);
  for (const d of [l.data, l.segments, l.checkpoints, l.keys]) mkdirSync(d, { recursive: true });
  const { verifierKey } = await writeKeys(l, origin);
  const signer = await loadSigner(l);
  const store = new SegmentStore(
    {
      layout: l,
      origin,
      signer,
      fsync: { mode: 'never', intervalMs: 1000 },
      checkpoint: { everyRecords: o.checkpointEvery ?? 1000, everyMs: 3_600_000 },
      log: pino({ level: 'silent' }),
      onCommit: () => {},
    },
    { nextSegment: 1, tree: new CompactTree(), lastHash: ZERO_HASH_HEX },
    0,
  );
  let i = 0;
  const seal = createSealer({ nextSeq: 0, prev: ZERO_HASH_HEX }, () => micros(o.tsOf ? o.tsOf(i) : Date.now()));
  const batch = o.batch ?? 500;
  const policy = { maxBytes: o.segmentBytes ?? 1 << 20, maxAgeMs: Infinity };
  while (i < n) {
    const records: Sealed[] = [];
    let bytes = 0;
    for (const end = Math.min(n, i + batch); i < end; i++) {
      const e = eventOf(i);
      const r = seal(
        serialize(
          { source: { kind: 'socket', conn: 1, line: i + 1 }, event: e.event as JsonObject, redactions: [], stream: e.stream, level: e.level, type: e.type },
          false,
        ),
      );
      records.push(r);
      bytes += r.line.length;
    }
    const frame = await compress({ records, bytes });
    if (needsRotation(policy, store.segment, frame.data.length, Date.now())) await store.closeSegment();
    await store.append(frame);
  }
  await store.close();
  return { pub: verifierKey, origin };
}

/** ISO 8601 UTC with microseconds, as the daemon stamps records. */
function micros(ms: number): string {
  const whole = Math.floor(ms);
  const iso = new Date(whole).toISOString(); // ...T10:00:00.123Z
  return `${iso.slice(0, -1)}${String(Math.floor((ms - whole) * 1000)).padStart(3, '0')}Z`;
}
