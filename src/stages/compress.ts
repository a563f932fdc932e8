import { Transform } from 'node:stream';
import { compressFrame } from 'lz4-napi';
import type { Batch, Frame } from '../types.js';

/**
 * compress: one standard LZ4 frame per batch, with the content checksum on so a
 * decoder notices damage before JSON does. Runs on libuv's pool, off the main thread.
 */
export async function compress(batch: Batch): Promise<Frame> {
  const raw = Buffer.concat(
    batch.records.map((r) => r.line),
    batch.bytes,
  );
  const data = await compressFrame(raw, { contentChecksum: true });
  return { records: batch.records, data, rawBytes: raw.length };
}

/**
 * The stream adapter: one batch compressing, at most one waiting on each side.
 * A batch is up to batch.max_bytes of records, so the default buffer of 16
 * objects would hold 16 MiB here alone.
 */
export function compressStage(): Transform {
  return new Transform({
    objectMode: true,
    highWaterMark: 1,
    transform(batch: Batch, _enc, cb) {
      compress(batch).then((frame) => cb(null, frame), cb);
    },
  });
}
