import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

/** The kernel's account of who is at the other end of a Unix socket. */
export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

/** What native/sealog_native.c provides: what Node has no API for, or none fast enough. */
export interface Native {
  /** SO_PEERCRED of a connected Unix socket's fd. Throws on error. */
  peerCred(fd: number): PeerCred;
  /** One datagram to an AF_UNIX SOCK_DGRAM socket ('@' = abstract namespace), as sd_notify sends. Throws on error. */
  notify(path: string, message: string): void;
  /** SHA-256 of a, b, c end to end, written into out's first 32 bytes (OpenSSL's, without node:crypto's per-call cost). */
  sha256Into(out: Uint8Array, a: Uint8Array, b?: Uint8Array, c?: Uint8Array): void;
  /** RFC 9162 leaf hash of buf[from..to) into out[outAt..+32), and its lowercase hex into buf[hexAt..+64) (native/tlog_hash.c). */
  leafHashHex(buf: Uint8Array, from: number, to: number, hexAt: number, out: Uint8Array, outAt: number): void;
  /** Folds `count` packed 32-byte leaf hashes into the peaks (oldest first, 32 bytes each) of a compact range of `size` leaves, in place. */
  merkleAppend(peaks: Uint8Array, size: number, leaves: Uint8Array, count: number): void;
  /**
   * The RFC 8785 form of the JSON text src[start, end) written into dst from pos (native/jcs.c): its end; -1 when it
   * declines it (duplicate keys, lone surrogates, numbers of 16+ digits, not JSON, ...), -2 when dst has too little room.
   */
  jcsFromJson(src: Uint8Array, start: number, end: number, dst: Uint8Array, pos: number): number;
  /** Where the addon was built with liblz4 (native/lz4_frame.c): a compressor, one LZ4F context and one output buffer. */
  lz4Compressor?(): Lz4Compressor;
  /** src as one LZ4 frame (independent blocks of up to 4 MiB, as lz4-napi wrote them; content checksum), compressed on libuv's pool. One call at a time per compressor. */
  lz4Frame?(compressor: Lz4Compressor, src: Uint8Array): Promise<Buffer>;
}

/** Opaque: what lz4Compressor() returns, for lz4Frame(). */
export type Lz4Compressor = { readonly __lz4Compressor: unique symbol };

export type NativeLoad = { native: Native; error?: undefined } | { native?: undefined; error: string };

/** The addon node-gyp built at install (build/Release/sealog_native.node beside package.json). */
export const ADDON_PATH = join(resolve(import.meta.dirname, '../..'), 'build/Release/sealog_native.node');

/** Loads the addon; when it is missing or will not load, says why instead of throwing. */
export function loadNative(path = ADDON_PATH): NativeLoad {
  try {
    const native = createRequire(import.meta.url)(path) as Native;
    // An addon built from an older checkout lacks what was added since: rebuild it (npm rebuild).
    for (const fn of ['peerCred', 'notify', 'sha256Into', 'leafHashHex', 'merkleAppend', 'jcsFromJson'] as const)
      if (typeof native[fn] !== 'function') throw new Error(`it has no ${fn}(); rebuild it`);
    return { native };
  } catch (err) {
    return { error: `cannot load ${path}: ${(err as Error).message.split('\n')[0]}` };
  }
}
