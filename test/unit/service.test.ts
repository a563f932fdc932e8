import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import { takeActivatedFd } from '../../src/service/activation.js';
import { mayPing, notifyEnv } from '../../src/service/notify.js';
import { changedSettings, Reloader } from '../../src/service/reload.js';

test('watchdog: a ping is withheld only when records pending at the last tick are still pending with no commit since', () => {
  const idle = { pending: 0, lastCommitAt: 5 };
  assert.equal(mayPing(idle, idle), true, 'idle');
  assert.equal(mayPing(idle, { pending: 4, lastCommitAt: 5 }), true, 'records just arrived: one tick of grace');
  assert.equal(mayPing({ pending: 4, lastCommitAt: 5 }, { pending: 4, lastCommitAt: 5 }), false, 'stuck');
  assert.equal(mayPing({ pending: 4, lastCommitAt: 5 }, { pending: 9, lastCommitAt: 6 }), true, 'busy but committing');
  assert.equal(mayPing({ pending: 4, lastCommitAt: 5 }, { pending: 0, lastCommitAt: 5 }), true, 'drained');
});

test('notify environment: the watchdog only when WATCHDOG_PID is absent or this process', () => {
  assert.equal(notifyEnv({}), undefined);
  assert.deepEqual(notifyEnv({ NOTIFY_SOCKET: '/run/n', WATCHDOG_USEC: '30000000' }, 7), { socket: '/run/n', watchdogMs: 30000 });
  assert.deepEqual(notifyEnv({ NOTIFY_SOCKET: '@n', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '8' }, 7), { socket: '@n', watchdogMs: undefined });
  assert.deepEqual(notifyEnv({ NOTIFY_SOCKET: '@n', WATCHDOG_USEC: 'x' }, 7), { socket: '@n', watchdogMs: undefined });
});

test('socket activation: fd 3 only when LISTEN_PID is this process; the variables are consumed', () => {
  const env: NodeJS.ProcessEnv = { LISTEN_PID: '7', LISTEN_FDS: '1', LISTEN_FDNAMES: 'sealog.socket' };
  assert.equal(takeActivatedFd(env, 7), 3);
  assert.deepEqual(env, {});
  assert.equal(takeActivatedFd({ LISTEN_PID: '8', LISTEN_FDS: '1' }, 7), undefined);
  assert.equal(takeActivatedFd({ LISTEN_PID: '7', LISTEN_FDS: '0' }, 7), undefined);
});

test('reload: changed settings are named by their dotted path; rules compare as one setting', () => {
  const a = loadConfig(undefined);
  const b = structuredClone(a) as any;
  b.log.level = 'debug';
  b.socket.path = '/run/x.sock';
  b.classify.rules = [{ match: { type: 'x' }, set: { stream: 'audit' } }];
  assert.deepEqual(changedSettings(a, b).sort(), ['classify.rules', 'log.level', 'socket.path']);
  assert.deepEqual(changedSettings(a, structuredClone(a)), []);
});

test('reload is all or nothing and counted: a failing prepare swaps nothing and keeps the old config', () => {
  const log = pino({ level: 'silent' });
  const cfg = loadConfig(undefined);
  let swapped = 0;
  const r = new Reloader(
    cfg,
    (next) => {
      if (next.batch.max_records === 13) throw new Error('schemas did not load');
      return () => swapped++;
    },
    log,
  );
  const failing = structuredClone(cfg) as any;
  failing.batch.max_records = 13;
  assert.equal(r.reload(() => failing).ok, false);
  assert.equal(swapped, 0);
  assert.equal(
    r.reload(() => {
      throw new Error('invalid configuration');
    }).error,
    'invalid configuration',
  );
  const next = structuredClone(cfg) as any;
  next.batch.max_records = 14;
  next.data_dir = '/elsewhere';
  const ok = r.reload(() => next);
  assert.deepEqual([ok.ok, ok.applied, ok.needsRestart, swapped], [true, ['batch.max_records'], ['data_dir'], 1]);
  // data_dir stays as it was: a second reload of the same file names it again.
  assert.deepEqual(r.reload(() => next).needsRestart, ['data_dir']);
  assert.equal(r.status.count, 4);
  assert.equal(r.status.last!.ok, true);
});
