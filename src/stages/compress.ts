import { compressFrame } from 'lz4-napi';
import type { Batch, Frame } from '../types.js';

/**
 * compress: one standard LZ4 frame per batch, with the content checksum on so a
 * decoder notices damage before JSON does. Runs on libuv's pool, off the main thread.
 */
export async function compress(batch: Batch): Promise<Frame> {
  const raw = Buffer.concat(batch.records.map((r) => r.line), batch.bytes);
  const data = await compressFrame(raw, { contentChecksum: true });
  return { records: batch.records, data, rawBytes: raw.length };
}
