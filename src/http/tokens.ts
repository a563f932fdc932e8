import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HttpCode, SealogError } from '../errors.js';
import { writeFileDurable } from '../store/fsutil.js';
import type { Layout } from '../store/layout.js';
import type { Role } from './roles.js';

/**
 * Bearer tokens (DESIGN §12). A token is shown once, at creation; the file
 * data/keys/tokens.json (0600) holds only its SHA-256, so reading the file
 * does not give a token.
 */
export interface TokenEntry {
  id: string;
  name: string;
  role: Role;
  sha256: string;
  created_at: string;
}

const PREFIX = 'slg_';
export const tokensPath = (l: Layout) => join(l.keys, 'tokens.json');
const digest = (token: string) => createHash('sha256').update(token, 'utf8').digest();

export async function readTokens(l: Layout): Promise<TokenEntry[]> {
  try {
    return (JSON.parse(await readFile(tokensPath(l), 'utf8')) as { tokens: TokenEntry[] }).tokens;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

async function writeTokens(l: Layout, tokens: TokenEntry[]): Promise<void> {
  await mkdir(l.keys, { recursive: true, mode: 0o700 });
  await writeFileDurable(tokensPath(l), `${JSON.stringify({ tokens }, null, 2)}\n`, 0o600);
}

/** Creates a token; returns it (the only time it exists outside the caller) and its entry. */
export async function createToken(l: Layout, role: Role, name: string): Promise<{ token: string; entry: TokenEntry }> {
  const tokens = await readTokens(l);
  if (tokens.some((t) => t.name === name))
    throw new SealogError(HttpCode.BAD_REQUEST, `a token named ${JSON.stringify(name)} exists already: revoke it first or pick another --name`);
  const token = PREFIX + randomBytes(32).toString('base64url');
  const entry: TokenEntry = { id: randomBytes(6).toString('hex'), name, role, sha256: digest(token).toString('hex'), created_at: new Date().toISOString() };
  await writeTokens(l, [...tokens, entry]);
  return { token, entry };
}

/** Revokes by id or name; returns what was revoked. */
export async function revokeToken(l: Layout, idOrName: string): Promise<TokenEntry> {
  const tokens = await readTokens(l);
  const gone = tokens.find((t) => t.id === idOrName || t.name === idOrName);
  if (!gone) throw new SealogError(HttpCode.TOKEN_UNKNOWN, `no token with id or name ${JSON.stringify(idOrName)}`);
  await writeTokens(
    l,
    tokens.filter((t) => t !== gone),
  );
  return gone;
}

/**
 * The daemon's view: the file is read again when it changes (checked at most once
 * a second), so `sealog token create|revoke` takes effect without a restart.
 */
export class TokenBook {
  private entries: { entry: TokenEntry; hash: Buffer }[] = [];
  private seen = '';
  private checkedAt = 0;
  private loading: Promise<void> | undefined;

  constructor(private readonly l: Layout) {}

  /** The entry whose hash matches, compared in constant time against every entry (no early exit). */
  async lookup(token: string): Promise<TokenEntry | undefined> {
    await this.refresh();
    const h = digest(token);
    let found: TokenEntry | undefined;
    for (const e of this.entries) if (timingSafeEqual(h, e.hash) && !found) found = e.entry;
    return found;
  }

  /** One reload at a time; callers that come meanwhile wait for it rather than see the old list. */
  private refresh(): Promise<void> {
    if (this.loading) return this.loading;
    if (Date.now() - this.checkedAt < 1000) return Promise.resolve();
    this.loading = this.reload().finally(() => {
      this.checkedAt = Date.now();
      this.loading = undefined;
    });
    return this.loading;
  }

  private async reload(): Promise<void> {
    const s = await stat(tokensPath(this.l)).catch(() => undefined);
    const mark = s ? `${s.mtimeMs}:${s.size}:${s.ino}` : '';
    if (mark === this.seen) return;
    this.seen = mark;
    const tokens = s ? await readTokens(this.l) : [];
    this.entries = tokens.filter((t) => /^[0-9a-f]{64}$/.test(t.sha256)).map((entry) => ({ entry, hash: Buffer.from(entry.sha256, 'hex') }));
  }
}
