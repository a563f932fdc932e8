import { setFlagsFromString } from 'node:v8';

// Regular expressions written in the config (redact patterns and key rules, classify rules)
// run on what producers send. A pattern such as `(a+)+b` or `\w+@` backtracks so much on a
// hostile string that one event could hold the daemon for minutes. V8 can finish such a match
// on its linear-time engine once a match has backtracked too much; that is off by default and
// is switched on here, for the whole process (V8 flags are per process), before any config
// regex is compiled. The engine runs most patterns, but not those with look-arounds,
// backreferences, the `i` flag or long counted repetitions: those keep V8's ordinary engine,
// which is why the config documentation asks for patterns that cannot backtrack.
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

/** Compiles a config regex; throws the engine's message when it does not compile. */
export function configRegex(source: string, flags = ''): RegExp {
  return new RegExp(source, flags);
}
