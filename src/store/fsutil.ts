import { copyFile, open, rename, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ErrorCode, SealogError } from '../errors.js';

/** fsync a directory so a created or renamed entry survives a crash. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Write-then-rename, both fsync'd: readers see the old file or the whole new one. */
export async function writeFileDurable(path: string, data: string | Buffer, mode = 0o644): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, data, { mode });
  const fh = await open(tmp, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await syncDir(dirname(path));
}

/** An fsync error is fatal: the kernel may have dropped the dirty pages, so retrying proves nothing. */
export function fatalSync(err: unknown): never {
  throw new SealogError(ErrorCode.FSYNC_FAILED, `fsync failed: ${(err as Error).message}`, { cause: err });
}

/** Appends the whole buffer: a single write(2) may be short. */
export async function writeAll(fh: FileHandle, data: Buffer): Promise<void> {
  for (let off = 0; off < data.length; ) {
    const { bytesWritten } = await fh.write(data, off, data.length - off);
    off += bytesWritten;
  }
}

/** Moves a file durably, across file systems too (copy, fsync, then unlink the original). */
export async function moveDurable(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await copyFile(from, to);
    const fh = await open(to, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await unlink(from);
  }
  await syncDir(dirname(to));
}
