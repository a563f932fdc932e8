import { uncompressSync } from 'lz4-napi';
import { Xxh32, xxh32 } from './xxh32.js';
import type { FileHandle } from 'node:fs/promises';
import { ErrorCode, SealogError } from '../errors.js';

// We walk the LZ4 frame format (lz4 Frame_format.md) ourselves only to find frame
// boundaries and to bound each frame's decoded size before decoding it: an
// uncapped decode of a hostile segment is the classic decompression bomb.

const MAGIC = 0x184d2204;
const BLOCK_MAX = [0, 0, 0, 0, 64 << 10, 256 << 10, 1 << 20, 4 << 20];

export type FrameScan = { ok: true; length: number; maxDecoded: number } | { ok: false; incomplete: boolean; reason: string };

/** Measures the frame starting at buf[0]. `incomplete` means more bytes might complete it. */
export function scanFrame(buf: Buffer): FrameScan {
  const need = (n: number): FrameScan => ({ ok: false, incomplete: true, reason: `frame cut short (needs ${n} bytes, has ${buf.length})` });
  if (buf.length < 7) return need(7);
  if (buf.readUInt32LE(0) !== MAGIC) return { ok: false, incomplete: false, reason: 'bad LZ4 frame magic' };
  const flg = buf[4]!;
  const bd = buf[5]!;
  if (flg >> 6 !== 1 || flg & 0x02 || bd & 0x8f) return { ok: false, incomplete: false, reason: 'bad LZ4 frame descriptor' };
  const blockMax = BLOCK_MAX[(bd >> 4) & 7]!;
  if (!blockMax) return { ok: false, incomplete: false, reason: 'bad LZ4 block size code' };
  const blockChecksum = (flg & 0x10) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  let pos = 6 + (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0) + 1;
  if (buf.length < pos) return need(pos);
  if (buf[pos - 1] !== ((xxh32(buf.subarray(4, pos - 1)) >>> 8) & 0xff)) return { ok: false, incomplete: false, reason: 'LZ4 frame header checksum mismatch' };
  let blocks = 0;
  for (;;) {
    if (buf.length < pos + 4) return need(pos + 4);
    const word = buf.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    if (size > blockMax) return { ok: false, incomplete: false, reason: 'LZ4 block larger than its declared maximum' };
    pos += size + (blockChecksum ? 4 : 0);
    blocks++;
  }
  if (contentChecksum) pos += 4;
  if (buf.length < pos) return need(pos);
  return { ok: true, length: pos, maxDecoded: blocks * blockMax };
}

/** The cap refusal, in one wording for verify (V_FRAME_TOO_LARGE) and the daemon's own reads. */
export const overCap = (maxDecoded: number, cap: number) => `LZ4 frame may decode to ${maxDecoded} bytes, over the ${cap}-byte cap`;

/** Decodes one whole frame, refusing any whose declared blocks could exceed `cap` bytes. */
export function decodeFrame(frame: Buffer, maxDecoded: number, cap: number): Buffer {
  if (maxDecoded > cap) throw new SealogError(ErrorCode.LZ4_CAP, overCap(maxDecoded, cap));
  let blocks: Buffer[];
  try {
    blocks = [...frameBlocks(frame)];
  } catch (err) {
    throw new SealogError(ErrorCode.LZ4_FRAME, (err as Error).message, { cause: err });
  }
  return blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks);
}

const WINDOW = 64 * 1024; // what a linked block may refer back to (LZ4 block format)

/**
 * The decoded blocks of one whole frame that scanFrame measured, one at a time: a
 * reader holds one block (at most 4 MiB) decoded, never the whole frame. Each block
 * is decoded into at most its declared maximum, so one that claims more fails.
 * Block and content checksums, when the frame has them, are checked as it goes.
 */
export function* frameBlocks(frame: Buffer): Generator<Buffer> {
  const flg = frame[4]!;
  const blockMax = BLOCK_MAX[(frame[5]! >> 4) & 7]!;
  const linked = (flg & 0x20) === 0;
  const blockChecksum = (flg & 0x10) !== 0;
  const content = flg & 0x04 ? new Xxh32() : undefined;
  // lz4-napi's block decoder takes the output size as a 4-byte prefix: the block maximum bounds it.
  const bound = Buffer.alloc(4);
  bound.writeUInt32LE(blockMax);
  let pos = 6 + (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0) + 1;
  let window: Buffer | undefined;
  for (;;) {
    const word = frame.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    const data = frame.subarray(pos, pos + size);
    pos += size;
    if (blockChecksum) {
      if (frame.readUInt32LE(pos) !== xxh32(data)) throw new Error('LZ4 block checksum mismatch');
      pos += 4;
    }
    const block = word & 0x80000000 ? data : uncompressSync(Buffer.concat([bound, data]), linked ? window : undefined);
    // A linked block may copy from the 64 KiB before it, across block boundaries.
    if (linked)
      window =
        block.length >= WINDOW ? Buffer.from(block.subarray(block.length - WINDOW)) : Buffer.concat([window ?? Buffer.alloc(0), block]).subarray(-WINDOW);
    content?.update(block);
    yield block;
  }
  if (content && frame.readUInt32LE(pos) !== content.digest()) throw new Error('LZ4 content checksum mismatch');
}

export interface FrameAt {
  offset: number;
  raw: Buffer;
  maxDecoded: number;
}
export interface FrameFault {
  offset: number;
  reason: string;
  incomplete: boolean;
}

/**
 * Yields each frame of a segment file with its byte offset, reading in bounded
 * chunks; stops at the first fault, which it yields last. `start` is the offset of
 * a frame boundary to begin at (a reader following a growing segment).
 */
export async function* readFrames(fh: FileHandle, fileSize: number, maxFrameBytes: number, start = 0): AsyncGenerator<FrameAt | FrameFault> {
  let buf = Buffer.alloc(0);
  let bufStart = start; // file offset of buf[0]
  let filePos = start;
  while (bufStart < fileSize) {
    const scan = scanFrame(buf);
    if (scan.ok) {
      yield { offset: bufStart, raw: buf.subarray(0, scan.length), maxDecoded: scan.maxDecoded };
      buf = buf.subarray(scan.length);
      bufStart += scan.length;
      continue;
    }
    if (!scan.incomplete) {
      yield { offset: bufStart, reason: scan.reason, incomplete: false };
      return;
    }
    if (filePos >= fileSize) {
      yield { offset: bufStart, reason: scan.reason, incomplete: true };
      return;
    }
    if (buf.length >= maxFrameBytes) {
      yield { offset: bufStart, reason: `LZ4 frame longer than ${maxFrameBytes} bytes`, incomplete: false };
      return;
    }
    const chunk = Buffer.allocUnsafe(Math.min(Math.max(1 << 20, buf.length), fileSize - filePos));
    const { bytesRead } = await fh.read(chunk, 0, chunk.length, filePos);
    if (bytesRead === 0) {
      yield { offset: bufStart, reason: 'file shrank while being read', incomplete: true };
      return;
    }
    filePos += bytesRead;
    buf = Buffer.concat([buf, chunk.subarray(0, bytesRead)]);
  }
}
