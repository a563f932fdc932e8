// Prints 1 when liblz4's frame API compiles and links here (binding.gyp then builds native/lz4_frame.c into
// the addon), else 0. SEALOG_LZ4=0 forces 0: scripts/build-native.mjs retries so when a build with it fails.
import { spawnSync } from 'node:child_process';
import { devNull } from 'node:os';

const program = '#include <lz4frame.h>\nint main(void) { return LZ4F_HEADER_SIZE_MAX + (int)LZ4F_compressBound(0, 0) == 0; }\n';
const found = () =>
  spawnSync(process.env.CC || 'cc', ['-x', 'c', '-', '-o', devNull, '-llz4'], { input: program, stdio: ['pipe', 'ignore', 'ignore'] }).status === 0;
console.log(process.env.SEALOG_LZ4 !== '0' && found() ? 1 : 0);
