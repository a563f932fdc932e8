import { constants } from 'node:fs';
import { link, lstat, mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';

/**
 * The spool is a directory producers write into; these keep sealog's own use of
 * it safe from them. Producers may rename, replace or plant any entry they own,
 * so nothing here trusts a path it checked a moment ago:
 *   - the spool itself gets the sticky bit, so producers cannot rename or replace
 *     what they do not own (sealog's done/ and rejected/, other producers' files);
 *   - done/ and rejected/ are checked with lstat before each use (a real directory
 *     owned by sealog, no access for others), and anything planted in their place
 *     is moved aside;
 *   - a move never replaces a file: link + unlink (EEXIST tries the next name),
 *     so even a directory swapped for a symlink after the check cannot make a
 *     producer's file overwrite one of sealog's.
 */

const uid = () => process.geteuid?.() ?? -1;

/** Creates the spool (mode 1770) or adds the sticky bit to one sealog owns; says what it could not fix. */
export async function prepareSpoolDir(dir: string): Promise<string | undefined> {
  const created = (await mkdir(dir, { recursive: true, mode: 0o1770 })) !== undefined;
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    // The umask may have taken the group's write bit: a spool sealog makes is 1770 exactly.
    if (created) await fh.chmod(0o1770);
    const st = await fh.stat();
    const othersWrite = (st.mode & 0o022) !== 0;
    if (!othersWrite || (st.mode & 0o1000) !== 0) return undefined;
    if (st.uid !== uid())
      return `${dir} is writable by others but has no sticky bit, and sealog (uid ${uid()}) does not own it to set it: producers can rename each other's files and sealog's folders`;
    await fh.chmod((st.mode & 0o7777) | 0o1000);
    return undefined;
  } finally {
    await fh.close();
  }
}

/**
 * Makes sure `path` is a real directory owned by sealog with mode 0700. Anything
 * else in its place (a symlink, a file, another user's directory) is renamed aside;
 * the name it got is returned so the caller can record it.
 */
export async function ensureOwnDir(path: string): Promise<string | undefined> {
  let planted: string | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const st = await lstat(path).catch(notFound);
    if (!st) {
      await mkdir(path, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      continue;
    }
    if (st.isDirectory() && st.uid === uid()) {
      if ((st.mode & 0o777) !== 0o700) await chmodDir(path);
      return planted;
    }
    planted = `${path}.planted-${Date.now()}`;
    await rename(path, planted);
  }
  throw new Error(`${path} keeps being replaced; sealog needs it to be its own directory`);
}

/** chmod 0700 through a descriptor opened without following a symlink: a swap cannot redirect it. */
async function chmodDir(path: string): Promise<void> {
  const fh = await open(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    await fh.chmod(0o700);
  } finally {
    await fh.close();
  }
}

/**
 * Moves `from` into `dir` under `name`, or `stem.<tag>.ext` (then `stem.<tag>-2.ext`, ...)
 * when that is taken: never over an existing file. Returns the name used.
 */
export async function moveNoReplace(from: string, dir: string, name: string, tag: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const candidate = i === 0 ? name : withTag(name, i === 1 ? tag : `${tag}-${i}`);
    const to = join(dir, candidate);
    try {
      await link(from, to);
      await unlink(from);
      return candidate;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      // fs.protected_hardlinks: sealog may not link a producer's file it cannot write. The
      // target folder was just checked to be sealog's own 0700 directory, where no one else
      // can create a name, so check-then-rename cannot replace anything there.
      if (code !== 'EPERM') throw err;
      if (await lstat(to).catch(notFound)) continue;
      await rename(from, to);
      return candidate;
    }
  }
  throw new Error(`no free name for ${name} in ${dir}`);
}

/**
 * The other half of a moveNoReplace that a crash cut between its link and its unlink: when
 * `from` has exactly one other name, and it is in one of `dirs` under a name moveNoReplace
 * would have used, `from` is unlinked and that name's path returned; else undefined.
 */
export async function finishCutMove(from: string, dirs: string[]): Promise<string | undefined> {
  const st = await lstat(from).catch(notFound);
  if (!st?.isFile() || st.nlink !== 2) return undefined;
  const name = basename(from);
  const stem = name.slice(0, name.length - extname(name).length);
  for (const dir of dirs) {
    for (const entry of await readdir(dir)) {
      if (entry !== name && !entry.startsWith(`${stem}.`)) continue;
      const other = await lstat(join(dir, entry)).catch(notFound);
      if (other?.ino !== st.ino || other.dev !== st.dev) continue;
      await unlink(from);
      return join(dir, entry);
    }
  }
  return undefined;
}

function withTag(name: string, tag: string): string {
  const ext = extname(name);
  return `${name.slice(0, name.length - ext.length)}.${tag}${ext}`;
}

function notFound(err: NodeJS.ErrnoException): undefined {
  if (err.code === 'ENOENT') return undefined;
  throw err;
}
