// Builds the native addon (SO_PEERCRED, sd_notify, SHA-256, LZ4 frames where liblz4 is installed) at install.
// A failed build never fails the install: sealog then runs without sender credentials and systemd
// notification, and says so. A build that fails only with liblz4 in it is done again without it.
import { spawnSync } from 'node:child_process';

// Under npm, `node-gyp` on PATH is npm's own copy; npm_config_node_gyp names it when run by hand.
const gyp = process.env.npm_config_node_gyp;
const rebuild = (env) =>
  gyp ? spawnSync(process.execPath, [gyp, 'rebuild'], { stdio: 'inherit', env }) : spawnSync('node-gyp', ['rebuild'], { stdio: 'inherit', env });
const lz4 = spawnSync(process.execPath, [new URL('probe-lz4.mjs', import.meta.url).pathname], { encoding: 'utf8' }).stdout?.trim() === '1';

let r = rebuild(process.env);
if (r.status !== 0 && !r.error && lz4) {
  console.warn('\nsealog: the native addon did not build with liblz4; building it again without.\n');
  r = rebuild({ ...process.env, SEALOG_LZ4: '0' });
}
if (r.status !== 0) {
  const why = r.error ? r.error.message : `node-gyp exited with ${r.status ?? r.signal}`;
  console.warn(
    `\nsealog: WARNING: the native addon did not build (${why}).\n` +
      'sealog still works, but records from the socket will not carry the sender pid/uid/gid (SO_PEERCRED)\n' +
      'and systemd Type=notify (READY, WATCHDOG) is unavailable. To build it: a C compiler, make, python3\n' +
      "and Node's headers (npm config nodedir, or network access for node-gyp), then `npm rebuild sealog`\n" +
      'or `node scripts/build-native.mjs` in the package directory.\n',
  );
} else if (!lz4) {
  console.warn(
    '\nsealog: note: liblz4 was not found (Debian/Ubuntu: apt-get install liblz4-dev), so the addon compresses\n' +
      'nothing and sealog compresses with lz4-napi, which holds ~50 MiB more memory under load. Install it, then\n' +
      '`node scripts/build-native.mjs` in the package directory.\n',
  );
}
