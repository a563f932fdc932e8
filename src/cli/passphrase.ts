import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { ErrorCode, SealogError } from '../errors.js';

const MAX_PASSPHRASE = 1024;

/**
 * A signer's passphrase: the first line of --passphrase-file (`-`: standard input), or typed
 * at the terminal without echo. Never taken from the command line or the environment, where
 * other users (ps, /proc) could read it.
 */
export async function readPassphrase(file: string | undefined, prompt: string, confirm = false): Promise<string> {
  if (file !== undefined) {
    const text = readFileSync(file === '-' ? 0 : file, 'utf8');
    const first = text.split(/\r?\n/, 1)[0] ?? '';
    if (!first || first.length > MAX_PASSPHRASE)
      throw new SealogError(ErrorCode.USAGE, `--passphrase-file ${file}: its first line must hold the passphrase (1-${MAX_PASSPHRASE} characters)`);
    return first;
  }
  if (!process.stdin.isTTY)
    throw new SealogError(ErrorCode.USAGE, 'no terminal to ask the passphrase at: give --passphrase-file FILE (or - for standard input)');
  const first = await ask(prompt);
  if (confirm && (await ask('repeat the passphrase: ')) !== first) throw new SealogError(ErrorCode.USAGE, 'the two passphrases differ');
  return first;
}

function ask(prompt: string): Promise<string> {
  process.stderr.write(prompt);
  let muted = false;
  const sink = new Writable({
    write(chunk, _enc, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output: sink, terminal: true });
  muted = true;
  return new Promise((resolve) => {
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
  });
}
