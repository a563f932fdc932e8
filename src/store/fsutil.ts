import { constants } from 'node:fs';
import { copyFile, open, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ErrorCode, SealogError } from '../errors.js';

/** fsync a file, or a directory so that a created or renamed entry survives a crash. */
export async function syncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Write-then-rename, both fsync'd: readers see the old file or the whole new one.
 * A write error (a full disk) removes the temp file and passes through unchanged,
 * so the caller may wait and retry; an fsync error is fatal.
 */
export async function writeFileDurable(path: string, data: string | Buffer, mode = 0o644): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await createExclusive(tmp);
  try {
    await fh.writeFile(data);
    await fh.chmod(mode);
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  try {
    await fh.sync().catch(fatalSync);
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await syncPath(dirname(path)).catch(fatalSync);
}

/** Creates a file only if nothing, not even a symlink, is at the path: never follows a planted link. */
export const openNew = (path: string, mode = 0o600) => open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);

/**
 * A temp file of our own, 0600 until the caller says otherwise. Whatever is already at
 * its path (a crash's leftover, or a link someone planted to make a root CLI write
 * through it) is unlinked, never written through; one that reappears at once is an attack.
 */
async function createExclusive(tmp: string): Promise<FileHandle> {
  try {
    return await openNew(tmp);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    await unlink(tmp);
    return openNew(tmp);
  }
}

/** A write refused for lack of space (or quota): worth waiting for, unlike an I/O error. */
export function isNoSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** An fsync error is fatal: the kernel may have dropped the dirty pages, so retrying proves nothing. */
export function fatalSync(err: unknown): never {
  throw new SealogError(ErrorCode.FSYNC_FAILED, `fsync failed: ${(err as Error).message}`, { cause: err });
}

/** Writes the buffers whole, end to end, at `position` (a single writev(2) may be short); explicit, so a retry after a cut lands in the right place. */
export async function writeAll(fh: FileHandle, data: Buffer[], position: number): Promise<void> {
  let rest = data;
  for (let at = position; rest.length > 0; ) {
    let { bytesWritten } = await fh.writev(rest, at);
    at += bytesWritten;
    let i = 0;
    while (i < rest.length && bytesWritten >= rest[i]!.length) bytesWritten -= rest[i++]!.length;
    rest = rest.slice(i);
    if (bytesWritten > 0) rest[0] = rest[0]!.subarray(bytesWritten);
  }
}

/** Moves a file durably, across file systems too (copy, fsync, then unlink the original). */
export async function moveDurable(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await copyFile(from, to);
    await syncPath(to).catch(fatalSync);
    await unlink(from);
  }
  await syncPath(dirname(to)).catch(fatalSync);
}
