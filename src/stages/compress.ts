import { Transform } from 'node:stream';
import { compressFrame } from 'lz4-napi';
import type { Batch, Frame } from '../types.js';

/**
 * compress: one standard LZ4 frame per batch, with the content checksum on so a
 * decoder notices damage before JSON does. Runs on libuv's pool, off the main thread.
 */
export async function compress(batch: Batch): Promise<Frame> {
  const raw = joined(batch);
  const data = await compressFrame(raw, { contentChecksum: true });
  return { records: batch.records, data, rawBytes: raw.length };
}

/** The batch's lines end to end: seal writes them so into its slab, so this is a view unless a slab ended inside the batch. */
export function joined(batch: Batch): Buffer {
  const first = batch.records[0]!.line;
  let at = first.byteOffset + first.length;
  for (let i = 1; i < batch.records.length; i++) {
    const l = batch.records[i]!.line;
    if (l.buffer !== first.buffer || l.byteOffset !== at)
      return Buffer.concat(
        batch.records.map((r) => r.line),
        batch.bytes,
      );
    at += l.length;
  }
  return Buffer.from(first.buffer, first.byteOffset, at - first.byteOffset);
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
