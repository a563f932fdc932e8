import { openRegular } from './safeRead.js';
import { decodeFrame, readFrames } from './lz4frames.js';

export interface FrameRecords {
  offset: number;
  length: number;
  lines: Buffer[];
}
export interface SegmentFault {
  offset: number;
  reason: string;
  /** The bytes from `offset` to the end could be a write cut short (not a damaged middle). */
  incomplete: boolean;
}

/**
 * Every frame of a segment decoded into record lines (without their "\n"),
 * each with its byte offset in the file; a fault ends the walk.
 */
export async function* segmentRecords(path: string, frameCap: number): AsyncGenerator<FrameRecords | SegmentFault> {
  const fh = await openRegular(path);
  try {
    const { size } = await fh.stat();
    for await (const f of readFrames(fh, size, frameCap)) {
      if (!('raw' in f)) {
        yield f;
        return;
      }
      const decoded = decodeRecords(f.raw, f.maxDecoded, frameCap);
      if (!Buffer.isBuffer(decoded)) {
        // The last frame of a file failing to decode is what a torn write looks like.
        yield { offset: f.offset, reason: decoded.reason, incomplete: decoded.undecodable && f.offset + f.raw.length === size };
        return;
      }
      yield { offset: f.offset, length: f.raw.length, lines: splitLines(decoded) };
    }
  } finally {
    await fh.close();
  }
}

/** A frame's record bytes, whole "\n"-terminated lines, or why not. */
export function decodeRecords(raw: Buffer, maxDecoded: number, frameCap: number): Buffer | { reason: string; undecodable: boolean } {
  let decoded: Buffer;
  try {
    decoded = decodeFrame(raw, maxDecoded, frameCap);
  } catch (err) {
    return { reason: `LZ4 frame does not decode: ${(err as Error).message}`, undecodable: true };
  }
  if (decoded.length === 0 || decoded[decoded.length - 1] !== 0x0a) return { reason: 'frame does not end with a whole record line', undecodable: false };
  return decoded;
}

function splitLines(buf: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = buf.indexOf(0x0a); i !== -1; i = buf.indexOf(0x0a, start)) {
    lines.push(buf.subarray(start, i));
    start = i + 1;
  }
  return lines;
}
