import { Transform } from 'node:stream';
import { loadNative } from '../native.js';
import type { Batch, Frame } from '../types.js';

/** Turns bytes into one standard LZ4 frame (content checksum on), off the main thread. */
export type FrameEncoder = (raw: Buffer) => Promise<Buffer>;

const addon = loadNative();

/**
 * Which encoder compresses, and if not liblz4, why: for the log line at start. liblz4 (in the addon,
 * native/lz4_frame.c) writes into one buffer of its own per stage; lz4-napi, the fallback where the addon
 * was built without liblz4, leaves each freed output buffer to its Rust allocator, ~50 MiB held under load.
 */
export const COMPRESSOR: { name: 'liblz4' | 'lz4-napi'; why?: string } = addon.native?.lz4Frame
  ? { name: 'liblz4' }
  : { name: 'lz4-napi', why: addon.error ?? 'the native addon was built without liblz4 (apt-get install liblz4-dev, then npm rebuild)' };

/** A new encoder of the kind named (COMPRESSOR's by default); each takes one frame at a time, in call order. */
export function frameEncoder(name = COMPRESSOR.name): FrameEncoder {
  if (name === 'lz4-napi') return async (raw) => (await import('lz4-napi')).compressFrame(raw, { contentChecksum: true });
  const { lz4Compressor, lz4Frame } = addon.native ?? {};
  if (!lz4Compressor || !lz4Frame) throw new Error(`liblz4 is not in the native addon: ${COMPRESSOR.why}`);
  const c = lz4Compressor();
  let last: Promise<unknown> = Promise.resolve();
  return (raw) => {
    const frame = last.then(() => lz4Frame(c, raw));
    last = frame.catch(() => {});
    return frame;
  };
}

let shared: FrameEncoder | undefined;

/** compress: one LZ4 frame per batch, the content checksum on so a decoder notices damage before JSON does. */
export async function compress(batch: Batch, encode = (shared ??= frameEncoder())): Promise<Frame> {
  const raw = joined(batch);
  const data = await encode(raw);
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
  const encode = frameEncoder();
  return new Transform({
    objectMode: true,
    highWaterMark: 1,
    transform(batch: Batch, _enc, cb) {
      compress(batch, encode).then((frame) => cb(null, frame), cb);
    },
  });
}
