import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { after, before } from 'node:test';
import { join, resolve } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

// Helpers for integration tests: the real daemon as a child process, a real
// socket, the real CLI. Every temp dir and child is cleaned up by its test.

export const ROOT = resolve(import.meta.dirname, '../../..');
export const BIN = join(ROOT, 'bin/sealog.js');

export interface Tmp {
  dir: string;
  data: string;
  socket: string;
  pub: string;
  cleanup(): void;
}

export function tmp(): Tmp {
  const dir = mkdtempSync(join(tmpdir(), 'sealog-test-'));
  return {
    dir,
    data: join(dir, 'data'),
    socket: join(dir, 's.sock'),
    pub: join(dir, 'data/keys/signing.pub'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface Running {
  proc: ChildProcess;
  pid: number;
  stderr(): string;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
  exited: Promise<number | null>;
  /** The HTTP API's base URL (e.g. http://127.0.0.1:40123), when it is on. */
  http?: string;
}

/** How to run the daemon: as another user, with extra environment, or from another copy of the program. */
export type StartAs = Pick<SpawnOptions, 'uid' | 'gid' | 'env'> & { bin?: string };

/** Writes the test's config file (t.dir/sealog.yaml): YAML deep-merged over the test defaults. Returns its path. */
export function writeConfig(t: Tmp, yaml = ''): string {
  const cfg = join(t.dir, 'sealog.yaml');
  // The HTTP API on a port of the kernel's choosing: tests never collide on 8470 (Running.http has the URL).
  const base = { data_dir: t.data, socket: { path: t.socket }, spool: { dir: join(t.dir, 'spool') }, log: { level: 'info' }, http: { listen: '127.0.0.1:0' } };
  writeFileSync(cfg, stringifyYaml(merge(base, (parseYaml(yaml) ?? {}) as Record<string, unknown>)));
  return cfg;
}

/** Starts `sealog start` with a YAML config (deep-merged over the test defaults) and waits until it is ready. */
export async function startDaemon(t: Tmp, yaml = '', { bin = BIN, ...as }: StartAs = {}): Promise<Running> {
  const r = await spawnReady(bin, ['start', '--config', writeConfig(t, yaml)], 'sealog ready', as);
  const listening = r
    .stderr()
    .split('\n')
    .find((l) => l.includes('HTTP API and dashboard listening'));
  return { ...r, http: listening ? (JSON.parse(listening) as { url: string }).url : undefined };
}

/** A sealog command as a child process, resolved once its stderr says `ready` (rejected if it exits first). */
export async function spawnReady(bin: string, args: string[], ready: string, as: Omit<StartAs, 'bin'> = {}): Promise<Running> {
  const proc = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'], ...as });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  await new Promise<void>((res, rej) => {
    const onData = () => {
      if (err.includes(ready)) {
        proc.stderr!.off('data', onData);
        res();
      }
    };
    proc.stderr!.on('data', onData);
    exited.then((code) => rej(new Error(`sealog ${args[0]} exited (${code}) before ready:\n${err}`)));
  });
  return {
    proc,
    pid: proc.pid!,
    stderr: () => err,
    exited,
    stop: async () => {
      proc.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

export interface Client {
  sock: Socket;
  acks: Record<string, unknown>[];
  committed: number;
  /** Highest line number the daemon has acknowledged as committed. */
  throughLine: number;
  send(lines: (string | Buffer)[]): Promise<void>;
  waitFor(pred: () => boolean, what: string, ms?: number): Promise<void>;
  end(): Promise<void>;
}

/** A client on the daemon socket with acks on (handshake is line 1). */
export async function client(path: string, ack = true): Promise<Client> {
  const sock = await new Promise<Socket>((res, rej) => {
    const s = connect(path, () => res(s));
    s.once('error', rej);
  });
  const c: Client = {
    sock,
    acks: [],
    committed: 0,
    throughLine: 0,
    send: async (lines) => {
      for (const l of lines) {
        if (sock.destroyed) return; // the daemon went away (a crash test killed it)
        if (!sock.write(typeof l === 'string' ? `${l}\n` : l)) {
          await new Promise<void>((r) => {
            const done = () => {
              sock.off('drain', done).off('close', done);
              r();
            };
            sock.on('drain', done).on('close', done);
          });
        }
      }
    },
    waitFor: (pred, what, ms = 20000) => waitUntil(pred, what, ms),
    end: async () => {
      sock.end();
      await new Promise((r) => (sock.closed ? r(null) : sock.once('close', r)));
    },
  };
  let buf = '';
  sock.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const a = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
      buf = buf.slice(nl + 1);
      c.acks.push(a);
      if (a.ack === 'commit') {
        c.committed += a.count as number;
        c.throughLine = a.through_line as number;
      }
    }
  });
  sock.on('error', () => {});
  if (ack) await c.send(['{"$sealog":{"ack":true}}']);
  return c;
}

/** Polls a condition instead of sleeping a fixed time. */
export async function waitUntil(pred: () => boolean, what: string, ms = 20000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], input?: string): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 28 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function cliAsync(args: string[], input?: string): Promise<CliResult> {
  return new Promise((res) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => res({ code, stdout, stderr }));
    p.stdin.end(input ?? '');
  });
}

export interface VerdictJson {
  ok: boolean;
  records: number;
  failure?: { code: string; seq?: number; segment?: string; offset?: number; file?: string; message: string };
  warnings: { code: string }[];
}

export function verify(t: Tmp, extra: string[] = []): VerdictJson & { exit: number | null } {
  const r = cli(['verify', '--data', t.data, '--key', t.pub, '--json', ...extra]);
  if (r.code === 2) throw new Error(`verify usage/I-O error: ${r.stderr}`);
  return { ...(JSON.parse(r.stdout) as VerdictJson), exit: r.code };
}

/**
 * Every record in the log's segments, in order; with `containing`, only the lines holding that
 * text (grep -F before they reach JS: a log of millions of records is more than one JS string).
 */
export function readRecords(t: Tmp, containing?: string): Record<string, any>[] {
  // A daemon killed before its first commit leaves no segment: no records (and `cat` of an unmatched glob would fail).
  const segments = join(t.data, 'segments');
  if (!existsSync(segments) || !readdirSync(segments).some((f) => f.endsWith('.seg.lz4'))) return [];
  const grep = containing === undefined ? '' : ` | { grep -F -e "$1" || [ $? -eq 1 ]; }`;
  const r = spawnSync('bash', ['-c', `set -o pipefail; cat "${t.data}"/segments/*.seg.lz4 | lz4 -dc${grep}`, 'bash', containing ?? ''], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (r.status !== 0) throw new Error(`lz4 -dc failed: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const av = out[k];
    out[k] = av && v && typeof av === 'object' && typeof v === 'object' ? merge(av as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/**
 * Per test file: fresh temp dirs and started daemons, all cleaned up after the
 * file's tests, killing any daemon a failed test left running.
 */
export function harness() {
  const tmps: Tmp[] = [];
  const daemons: Running[] = [];
  after(async () => {
    for (const d of daemons) if (d.proc.exitCode === null && d.proc.signalCode === null) await d.kill();
    for (const t of tmps) t.cleanup();
  });
  return {
    fresh(): Tmp {
      const t = tmp();
      tmps.push(t);
      return t;
    },
    async start(t: Tmp, yaml = '', as?: StartAs): Promise<Running> {
      const d = await startDaemon(t, yaml, as);
      daemons.push(d);
      return d;
    },
  };
}

/**
 * A log the daemon builds once, before a file's tests, from `lines` sent with acks under
 * `yaml`; each case that damages a log takes its own `copy()`.
 */
export function sealedLog(h: ReturnType<typeof harness>, yaml: string, lines: string[]): { readonly log: Tmp; copy(): Tmp } {
  let log: Tmp | undefined;
  before(async () => {
    const t = h.fresh();
    const d = await h.start(t, yaml);
    const sent = cli(['send', '--socket', t.socket, '--ack'], `${lines.join('\n')}\n`);
    if (sent.code !== 0) throw new Error(`sealog send failed (${sent.code}): ${sent.stderr}`);
    const code = await d.stop();
    if (code !== 0) throw new Error(`the daemon stopped with ${code}`);
    log = t;
  });
  return {
    get log(): Tmp {
      if (!log) throw new Error('the sealed log is built in before()');
      return log;
    },
    copy(): Tmp {
      const t = h.fresh();
      cpSync(this.log.data, t.data, { recursive: true });
      return t;
    },
  };
}
