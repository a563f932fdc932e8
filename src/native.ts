import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

/** The kernel's account of who is at the other end of a Unix socket. */
export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

/** What native/sealog_native.c provides: the two things Node has no API for. */
export interface Native {
  /** SO_PEERCRED of a connected Unix socket's fd. Throws on error. */
  peerCred(fd: number): PeerCred;
  /** One datagram to an AF_UNIX SOCK_DGRAM socket ('@' = abstract namespace), as sd_notify sends. Throws on error. */
  notify(path: string, message: string): void;
}

export type NativeLoad = { native: Native; error?: undefined } | { native?: undefined; error: string };

/** The addon node-gyp built at install (build/Release/sealog_native.node beside package.json). */
export const ADDON_PATH = join(resolve(import.meta.dirname, '../..'), 'build/Release/sealog_native.node');

/** Loads the addon; when it is missing or will not load, says why instead of throwing. */
export function loadNative(path = ADDON_PATH): NativeLoad {
  try {
    return { native: createRequire(import.meta.url)(path) as Native };
  } catch (err) {
    return { error: `cannot load ${path}: ${(err as Error).message.split('\n')[0]}` };
  }
}
