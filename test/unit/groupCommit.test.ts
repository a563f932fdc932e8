import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { test } from 'node:test';
import pino from 'pino';
import { ZERO_HASH_HEX } from '../../src/crypto/hash.js';
import { loadSigner, writeKeys } from '../../src/crypto/keyFiles.js';
import { parseVerifierKey } from '../../src/crypto/keys.js';
import { CompactTree } from '../../src/crypto/merkle.js';
import { compress } from '../../src/stages/compress.js';
import { rotateSink } from '../../src/stages/rotate.js';
import { createSealer } from '../../src/stages/seal.js';
import { serialize } from '../../src/stages/serialize.js';
import { layout, listSegments, segmentName } from '../../src/store/layout.js';
import { SegmentStore } from '../../src/store/segmentStore.js';
import type { Frame } from '../../src/types.js';
import { verifyLog } from '../../src/verify/verifier.js';

// Group commit: frames that reach the sink while one is being written and synced go to the
// store together with one sync, instead of a sync each; a segment boundary still falls
// between frames where the rotation rule puts it, and every record is committed in order.
test('frames queued behind a sync are committed with one sync, split where a segment must close; the log verifies', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sealog-group-commit-'));
  try {
    const l = layout(join(dir, 'data'));
    for (const d of [l.data, l.segments, l.checkpoints, l.keys]) mkdirSync(d, { recursive: true });
    const { verifierKey } = await writeKeys(l, 'sealog/test');
    let fsyncs = 0;
    const committed: number[] = [];
    const store = new SegmentStore(
      {
        layout: l,
        origin: 'sealog/test',
        signer: await loadSigner(l),
        fsync: { mode: 'batch', intervalMs: 1000 },
        checkpoint: { everyRecords: 1_000_000, everyMs: 3_600_000 },
        log: pino({ level: 'silent' }),
        onCommit: (records) => committed.push(...records.map((r) => r.seq)),
        observe: { fsync: () => fsyncs++, commit: () => {} },
      },
      { nextSegment: 1, tree: new CompactTree(), lastHash: ZERO_HASH_HEX },
      0,
    );
    const seal = createSealer({ nextSeq: 0, prev: ZERO_HASH_HEX }, () => '2026-12-07T10:00:00.000000Z');
    const frames: Frame[] = [];
    for (let f = 0, seq = 0; f < 9; f++) {
      const records = Array.from({ length: 20 }, () =>
        seal(serialize({ source: { kind: 'socket', conn: 1, line: seq + 1 }, event: { n: seq++, pad: 'x'.repeat(200) }, redactions: [] }, false)),
      );
      frames.push(await compress({ records, bytes: records.reduce((n, r) => n + r.line.length, 0) }));
    }
    // About three frames to a segment.
    const maxBytes = 3 * Math.max(...frames.map((f) => f.data.length)) + 16;
    const sink = rotateSink(store, { maxBytes, maxAgeMs: 3_600_000 });
    // All at once: the first is written alone, the rest wait for its sync and go in runs.
    for (const frame of frames) sink.write(frame);
    sink.end();
    await finished(sink);

    assert.deepEqual(
      committed,
      Array.from({ length: 180 }, (_, i) => i),
      'every record committed, in order',
    );
    const segments = await listSegments(l);
    assert.ok(segments.length >= 3, `the frames span segments (${segments.length})`);
    for (const s of segments) assert.ok(statSync(join(l.segments, segmentName(s.n))).size <= maxBytes, `segment ${s.n} within segment.max_bytes`);
    assert.ok(
      fsyncs <= segments.length + 1,
      `one sync per run of frames, not per frame: ${fsyncs} syncs for ${frames.length} frames in ${segments.length} segments`,
    );
    const verdict = await verifyLog({ data: l.data, keys: [parseVerifierKey(verifierKey)], keyPinned: true, strict: true, frameCap: 16 << 20 });
    assert.ok(verdict.ok, JSON.stringify(verdict.failure));
    assert.equal(verdict.records, 180);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
