import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { connect } from 'nats';
import pg from 'pg';
import { BIN, type Running, spawnReady } from './daemon.js';
export { prng } from './prng.js';

// The machine's real PostgreSQL and NATS JetStream, for the collector's tests. Each test
// gets its own database and its own stream and subject root, and drops them after.

export const NATS_URL = process.env.SEALOG_TEST_NATS ?? 'nats://127.0.0.1:4222';
export const PG_ADMIN = process.env.SEALOG_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TempDb {
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

export async function tempDb(): Promise<TempDb> {
  const name = `sealog_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = PG_ADMIN.replace(/\/[^/]*$/, `/${name}`);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  return {
    url,
    pool,
    drop: async () => {
      await pool.end();
      const a = new pg.Client({ connectionString: PG_ADMIN });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/** A stream name and subject root no other test uses; `drop` deletes the stream. */
export function tempStream(): { stream: string; root: string; drop(): Promise<void> } {
  const id = randomBytes(5).toString('hex');
  const stream = `SEALOG_T_${id}`;
  return {
    stream,
    root: `sealogt${id}`,
    drop: async () => {
      const nc = await connect({ servers: NATS_URL });
      try {
        await (await nc.jetstreamManager()).streams.delete(stream).catch(() => {});
      } finally {
        await nc.close();
      }
    },
  };
}

/** The YAML for a jetstream sink to the test's stream. */
export const jetstreamSink = (s: { stream: string; root: string }, url = NATS_URL, extra = '') =>
  `sinks:\n  - name: central\n    type: jetstream\n    url: ${url}\n    stream: ${s.stream}\n    subject_root: ${s.root}\n${extra}`;

/** Writes a keys file pinning each data dir's public key (its name is its origin). */
export function keysFile(dir: string, pubs: string[]): string {
  const file = join(dir, 'collect.keys');
  writeFileSync(file, pubs.map((p) => readFileSync(p, 'utf8').trim()).join('\n') + '\n');
  return file;
}

/** `sealog collect` as a child process, ready once it logs so. */
export const startCollect = (args: string[]): Promise<Running> => spawnReady(BIN, ['collect', ...args], 'sealog collect ready');

/** A TCP proxy to a local port whose connections a test can cut at once (a network fault). */
export async function tcpProxy(port: number, listenPort = 0): Promise<{ url: string; cut(): void; close(): Promise<void> }> {
  const socks = new Set<Socket>();
  const server = createServer((down) => {
    const up = netConnect(port, '127.0.0.1');
    const end = () => {
      down.destroy();
      up.destroy();
      socks.delete(down);
      socks.delete(up);
    };
    socks.add(down).add(up);
    down.pipe(up).pipe(down);
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(listenPort, '127.0.0.1', r));
  return {
    url: `nats://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut: () => socks.forEach((s) => s.destroy()),
    close: async () => {
      socks.forEach((s) => s.destroy());
      await new Promise((r) => server.close(r));
    },
  };
}
