import { constants, type Stats } from 'node:fs';
import { lstat, open, type FileHandle } from 'node:fs/promises';
import { SpoolCode } from '../errors.js';

export type Opened = { fh: FileHandle; st: Stats } | { gone: true } | { code: string; reason: string };

/**
 * Opens a spool entry for reading without ever blocking: O_NONBLOCK (a FIFO
 * swapped in under the name would otherwise hold a libuv thread in open()
 * until a writer comes, and four of them stop every file operation of the
 * daemon), O_NOFOLLOW, and the checks made on the opened descriptor itself, not
 * on the name, which a producer may have changed since it was listed.
 */
export async function openSpoolFile(path: string): Promise<Opened> {
  const named = await lstat(path).catch(() => undefined);
  if (!named) return { gone: true };
  if (named.isSymbolicLink()) return { code: SpoolCode.SYMLINK, reason: 'a symbolic link; sealog reads only regular files in the spool' };
  if (!named.isFile()) return { code: SpoolCode.NOT_FILE, reason: 'not a regular file' };
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { gone: true };
    if (code === 'ELOOP') return { code: SpoolCode.SYMLINK, reason: 'a symbolic link (swapped in after it was listed)' };
    return { code: SpoolCode.UNREADABLE, reason: `cannot open: ${code}` };
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) {
      await fh.close();
      return { code: SpoolCode.NOT_FILE, reason: 'not a regular file (swapped in after it was listed)' };
    }
    // A second name elsewhere would let a producer feed sealog a file it does not own, or keep writing to one sealog moved.
    if (st.nlink !== 1) {
      await fh.close();
      return { code: SpoolCode.LINKED, reason: `the file has ${st.nlink} hard links; sealog reads only files whose one name is in the spool` };
    }
    return { fh, st };
  } catch (err) {
    await fh.close();
    throw err;
  }
}
