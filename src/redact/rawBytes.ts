// What of a dead-letter line's bytes can be kept, judged before sanitize scans them. The scan
// recognizes a secret by its shape or by the key before it, on text; two kinds of input defeat
// that, and of those sealog keeps less rather than a secret in clear:
//   - bytes that are not text: with NUL bytes (UTF-16, UTF-32, binary) an ASCII secret is not a
//     run of ASCII characters, so no pattern sees it. Nothing of them is kept but the length.
//   - a line cut short (over the size limit, only its head kept; or never finished): the cut may
//     fall inside a token (`ghp_abc…`, `AKIAIOSF…`) whose beginning no pattern recognizes any
//     more. The last token, from the last separator on, is dropped.

/** Bytes that end a token: whitespace, quotes and JSON's punctuation (not `.`, `-`, `_`, `/`, `+`, `=`, `:` or `@`, which occur inside tokens). */
const SEPARATOR = new Uint8Array(256);
for (const c of ' \t\r\n"\'`,;{}[]()<>') SEPARATOR[c.charCodeAt(0)] = 1;

/** True when the bytes hold a NUL: not a text a pattern can read (UTF-16, binary). */
export function notText(bytes: Uint8Array): boolean {
  return bytes.indexOf(0) >= 0;
}

/** The length to keep of a line that was cut: up to and including its last separator. */
export function beforePartialToken(bytes: Uint8Array): number {
  let i = bytes.length;
  while (i > 0 && SEPARATOR[bytes[i - 1]!] === 0) i--;
  return i;
}
