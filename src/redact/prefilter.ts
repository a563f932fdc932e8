// The prefilter: a few native searches (and, when the string has `:` or `=`, one keyword
// search) say which families of detectors could match anywhere in a string. The scanner then
// runs a regex of only those, as gitleaks and trufflehog run a rule only where its keywords
// occur: the key=value detectors, whose case-insensitive key words cost the most at every
// position, run only on strings that hold one of those words (not on every timestamp). Each
// feature is a NECESSARY condition of every match of the detectors that need it: a detector
// is never left out of a string it could match (test/unit/redact.prefilter.test.ts checks the
// scan with and without the prefilter gives the same result).

/** `@`: emails, passwords in connection strings. */
export const AT = 1;
/** `:` or `=`, and a secret or PII key word: `password=…`, `"customer_name": …`, `Authorization: …`. */
export const KEYWORD = 2;
/** `::` or seven colons: an IPv6 address. */
export const IPV6 = 4;
export const ALL = 7;

// Every key word of the assignment detectors contains one of these (password, passwd,
// passphrase and passport: `pass`; api_key, access_key, private_key: `key`; first_name,
// surname: `name`; national_id, tax_id; Authorization and Proxy-Authorization: `authori`).
const KEY_WORDS = /pass|pwd|secret|key|token|credential|cookie|name|ssn|national|tax|authori/i;

/**
 * The features of `s`, as a mask of the constants above. Native searches only: a loop over
 * the characters in JavaScript costs more than the regexes it would spare (measured), so the detectors of keys, tokens and numbers, whose literal
 * prefixes and digit classes the regex engine skips over cheaply, run on every string.
 */
export function features(s: string): number {
  let f = s.includes('@') ? AT : 0;
  const colon = s.indexOf(':');
  if ((colon >= 0 || s.includes('=')) && KEY_WORDS.test(s)) f |= KEYWORD;
  if (colon >= 0 && hasIPv6Shape(s, colon)) f |= IPV6;
  return f;
}

// An IPv6 address has `::` or seven colons; a time has two.
function hasIPv6Shape(s: string, first: number): boolean {
  if (s.includes('::')) return true;
  let i = first;
  for (let n = 1; n < 7; n++) if ((i = s.indexOf(':', i + 1)) < 0) return false;
  return true;
}
