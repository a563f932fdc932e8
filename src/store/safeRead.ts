import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { ErrorCode, SealogError } from '../errors.js';

// Reading a data directory someone else may have prepared (an auditor's copy, a
// hostile producer's planted file): a checkpoint linked to /dev/zero must not grow
// memory without end, a FIFO must not hang the reader, a segment linked to a device
// must not pass as empty. Every file is opened without following a final symlink and
// without blocking, and only a regular file is read; small files are read with a cap.

/** Signed notes (checkpoints, manifests) are a few KB; anything larger is not one. */
export const NOTE_MAX_BYTES = 64 * 1024;

const NO_FOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const FOLLOW = constants.O_RDONLY | constants.O_NONBLOCK;

/**
 * Opens a regular file for reading, or throws E_NOT_REGULAR_FILE. `follow` lets a
 * symlink stand for the file (a path the caller chose, e.g. --key); inside a data
 * directory nothing is followed.
 */
export async function openRegular(path: string, follow = false): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    fh = await open(path, follow ? FOLLOW : NO_FOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw notRegular(path, 'a symbolic link');
    throw err;
  }
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw notRegular(path, st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isDirectory() ? 'a directory' : 'a socket');
  }
  return fh;
}

/** A whole small regular file, refusing one over `cap` bytes (E_FILE_TOO_LARGE) without reading past it. */
export async function readCapped(path: string, cap: number, follow = false): Promise<Buffer> {
  const fh = await openRegular(path, follow);
  try {
    const buf = Buffer.alloc(cap + 1);
    let n = 0;
    for (let r; n <= cap && (r = (await fh.read(buf, n, cap + 1 - n, n)).bytesRead) > 0; ) n += r;
    if (n > cap) throw new SealogError(ErrorCode.FILE_TOO_LARGE, `${path} is larger than ${cap} bytes, more than any file of its kind holds`);
    return buf.subarray(0, n);
  } finally {
    await fh.close();
  }
}

const notRegular = (path: string, what: string) => new SealogError(ErrorCode.NOT_REGULAR_FILE, `${path} is ${what}, not a regular file: refused`);
