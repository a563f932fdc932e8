// Builds the native addon (SO_PEERCRED, sd_notify) at install. A failed build never fails
// the install: sealog then runs without sender credentials and systemd notification, and says so.
import { spawnSync } from 'node:child_process';

// Under npm, `node-gyp` on PATH is npm's own copy; npm_config_node_gyp names it when run by hand.
const gyp = process.env.npm_config_node_gyp;
const r = gyp ? spawnSync(process.execPath, [gyp, 'rebuild'], { stdio: 'inherit' }) : spawnSync('node-gyp', ['rebuild'], { stdio: 'inherit' });
if (r.status !== 0) {
  const why = r.error ? r.error.message : `node-gyp exited with ${r.status ?? r.signal}`;
  console.warn(
    `\nsealog: WARNING: the native addon did not build (${why}).\n` +
      'sealog still works, but records from the socket will not carry the sender pid/uid/gid (SO_PEERCRED)\n' +
      'and systemd Type=notify (READY, WATCHDOG) is unavailable. To build it: a C compiler, make, python3\n' +
      "and Node's headers (npm config nodedir, or network access for node-gyp), then `npm rebuild sealog`\n" +
      'or `node scripts/build-native.mjs` in the package directory.\n',
  );
}
