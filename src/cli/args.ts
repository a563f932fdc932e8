import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ErrorCode, SealogError } from '../errors.js';

/** Strict flag parsing shared by the subcommands; --help is always accepted. */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
  } catch (err) {
    throw new SealogError(ErrorCode.USAGE, (err as Error).message);
  }
}
