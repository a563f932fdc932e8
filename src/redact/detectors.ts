import { isCardNumber, isPersonalIPv4, isPersonalIPv6, isPhone, isRealValue, standsAlone } from './checks.js';
import type { BuiltinType } from './kinds.js';
import { ASSIGN, AT, DIGIT_GROUPS, DOTTED_NUMBER, type Gate, IPV6, LONG_NUMBER, PLUS_NUMBER } from './prefilter.js';

/**
 * A text pattern: what sanitize looks for inside every string (values and keys), in
 * named fields and free text alike. Those the prefilter lets through are joined into one
 * regex, so each string is scanned once; `accept` then checks a candidate (Luhn, ranges)
 * and `split` keeps the context around the sensitive part (`Bearer `, `password=`, the
 * quotes). Each must cost time linear in the string: no part that can rescan what a
 * rejected candidate covered (test/unit/redact.linear.test.ts).
 */
export interface Detector extends Gate {
  /** The detector's name; also its type unless `typeOf` says otherwise. */
  name: string;
  /** Regex source, case-sensitive, with no capturing groups and no backreferences. */
  source: string;
  accept?: (match: string, input: string, index: number) => boolean;
  /** [kept prefix, sensitive part, kept suffix]; default: all of the match is sensitive. */
  split?: (match: string) => [string, string, string];
  /** The type when it depends on the match (the `password=…` family). */
  typeOf?: (match: string) => string;
  /** Every type this detector can report (for the kinds table). */
  types?: readonly string[];
  // Gate (prefilter.ts): `keywords`, one of which every match contains, and `needs`, features of
  // every string it matches in; strings without them are scanned by a regex without the detector.
}

/** Case-insensitive form of a plain word (no regex flags per alternative in one combined regex). */
function ci(word: string): string {
  return word.replace(/[a-z]/gi, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`);
}
const alt = (...xs: string[]) => `(?:${xs.join('|')})`;
/**
 * A word boundary before a literal, written after it as a look back over it: `AIza` + wordStart(4)
 * matches what `\b` + `AIza` does, but a pattern that starts with its literal lets the regex
 * engine skip ahead cheaply (about 20% of the scan).
 */
const wordStart = (n: number) => `(?<![A-Za-z0-9_].{${n}})`;
const SEP = '[_-]?';

// `password=…`, `"client_secret": "…"`, `X-Api-Key: …`, `?access_token=…`: a secret-named key
// followed by `:` or `=` and a value (quoted, or up to a space, quote or separator).
// The key may end the name (`db_password`), so the keyword has no left boundary.
const SECRET_WORD = alt(
  ci('password'),
  ci('passwd'),
  ci('passphrase'),
  ci('pwd'),
  `${ci('secret')}(?:${SEP}${ci('access')})?(?:${SEP}${ci('key')})?`,
  `${alt(ci('api'), ci('access'), ci('private'), ci('auth'))}${SEP}${ci('key')}`,
  ci('token'),
  `${ci('credential')}[sS]?`,
  `${ci('cookie')}[sS]?`,
);
// The same for PII whose value has no shape of its own (a name), or a bare national id:
// `"customer_name": "…"` inside a dead-letter line, `passport_no=…` in a message.
const PII_WORD = alt(
  `${alt(...['full', 'first', 'last', 'given', 'family', 'middle', 'maiden', 'legal', 'customer', 'patient', 'employee', 'contact', 'cardholder'].map(ci))}${SEP}${ci('name')}`,
  ci('surname'),
  `${ci('passport')}(?:${SEP}${alt(ci('number'), ci('no'))})?`,
  `${ci('national')}${SEP}${ci('id')}`,
  `${ci('tax')}${SEP}${ci('id')}`,
  ci('ssn'),
);
const QUOTE = `\\\\?["']?`;
// A value: quoted (in JSON text, `\"…\"` inside a string; escapes inside are part of it), or a run
// up to a space, quote or separator. A quoted value runs to its closing quote, else to the end of
// the line or text: a line cut inside `"api_key":"AbCd…` still has its value found. Every
// alternative takes what it can without backtracking into it, so a candidate costs its length.
const VALUE = alt(
  `\\\\"(?:[^"\\\\\\r\\n]|\\\\[^"\\r\\n])*(?:\\\\")?`,
  `"(?:[^"\\\\\\r\\n]|\\\\[^\\r\\n])*"?`,
  `'(?:[^'\\\\\\r\\n]|\\\\[^\\r\\n])*'?`,
  `[^\\s"'\\\\,;&)}\\]]+`,
);
const KV_PREFIX = /^[^:=]*[:=]\s*/;

function typeOfSecretKey(m: string): string {
  const k = m.slice(0, m.search(/[:=]/)).toLowerCase();
  if (/pass|pwd/.test(k)) return 'password';
  if (/secret[_-]?access/.test(k)) return 'aws_secret_key';
  if (k.includes('secret')) return 'secret';
  if (k.includes('private')) return 'private_key';
  if (/key/.test(k)) return 'api_key';
  if (k.includes('token')) return 'token';
  if (k.includes('cookie')) return 'cookie';
  return 'credentials';
}
function typeOfPiiKey(m: string): string {
  const k = m.slice(0, m.search(/[:=]/)).toLowerCase();
  if (k.includes('ssn')) return 'ssn';
  return /name/.test(k) ? 'name' : 'national_id';
}

/** Keeps `key: ` and the value's quotes (the opening one alone when the value was cut), so the text still reads as it did. */
function splitQuoted(prefix: string, rest: string): [string, string, string] {
  const q = /^\\?["']/.exec(rest)?.[0];
  if (!q) return [prefix, rest, ''];
  const closed = rest.length >= 2 * q.length && rest.endsWith(q);
  return [prefix + q, rest.slice(q.length, closed ? rest.length - q.length : rest.length), closed ? q : ''];
}
function splitAfter(re: RegExp): (m: string) => [string, string, string] {
  return (m) => {
    const p = re.exec(m)?.[0] ?? '';
    return splitQuoted(p, m.slice(p.length));
  };
}

const AUTH_SCHEME = alt(...['basic', 'bearer', 'token', 'negotiate', 'ntlm', 'apikey', 'sso-key', 'ssws', 'key'].map(ci));
const AUTH_PREFIX = new RegExp(
  `^[^:=]*[:=]\\s*(?:\\\\?["'])?(?:(?:${['digest', 'aws4-hmac-sha256', 'basic', 'bearer', 'token', 'negotiate', 'ntlm', 'apikey', 'sso-key', 'ssws', 'key'].join('|')})\\s+)?`,
  'i',
);
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const H16 = '[0-9A-Fa-f]{1,4}';

// Order matters only when two patterns match at the same place: the first that passes its check wins.
export const DETECTORS: readonly Detector[] = [
  {
    name: 'private_key',
    // Up to the END line, or to the end of the string when a cap or an oversize line cut it.
    source: '-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----[\\s\\S]*?(?:-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----|$)',
    keywords: ['-----BEGIN'],
  },
  {
    name: 'authorization',
    source:
      `(?:${ci('proxy-')})?${ci('authorization')}${QUOTE}\\s*[:=]\\s*${QUOTE}` +
      alt(`${alt(ci('digest'), ci('aws4-hmac-sha256'))}\\s+[^\\r\\n"'\\\\]+`, `${AUTH_SCHEME}\\s+[^\\s"'\\\\,;]+`, '[A-Za-z0-9\\-._~+/=]{12,}'),
    split: splitAfter(AUTH_PREFIX),
    keywords: ['authorization'],
    needs: ASSIGN,
  },
  { name: 'bearer_token', source: `${ci('bearer')}${wordStart(6)}\\s+[A-Za-z0-9\\-._~+/]{16,}=*`, split: splitAfter(/^\S+\s+/), keywords: ['bearer'] },
  {
    name: 'secret_assignment',
    source: `${SECRET_WORD}${QUOTE}\\s*[:=]\\s*${VALUE}`,
    typeOf: typeOfSecretKey,
    types: ['password', 'aws_secret_key', 'secret', 'private_key', 'api_key', 'token', 'cookie', 'credentials'],
    split: splitAfter(KV_PREFIX),
    accept: (m) => {
      const [, v] = splitAfter(KV_PREFIX)(m);
      return isRealValue(v, typeOfSecretKey(m));
    },
    keywords: ['pass', 'pwd', 'secret', 'key', 'token', 'credential', 'cookie'],
    needs: ASSIGN,
  },
  {
    name: 'pii_assignment',
    source: `${PII_WORD}${QUOTE}\\s*[:=]\\s*${VALUE}`,
    typeOf: typeOfPiiKey,
    types: ['name', 'national_id', 'ssn'],
    split: splitAfter(KV_PREFIX),
    accept: (m) => isRealValue(splitAfter(KV_PREFIX)(m)[1], 'pii'),
    keywords: ['name', 'passport', 'national', 'tax', 'ssn'],
    needs: ASSIGN,
  },
  { name: 'jwt', source: 'eyJ(?<![A-Za-z0-9_-]eyJ)[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]*', keywords: ['eyJ'] },
  {
    name: 'connection_string',
    // scheme://user:password@host: only the password goes, scheme, user and host stay.
    source: '\\b[A-Za-z][A-Za-z0-9+.-]{1,30}://[^\\s:@/?#"\'<>\\\\]*:[^\\s/?#"\'<>\\\\]+(?=@)',
    split: (m) => {
      const p = m.indexOf(':', m.indexOf('://') + 3) + 1;
      return [m.slice(0, p), m.slice(p), ''];
    },
    keywords: ['://'],
    needs: AT,
  },
  { name: 'slack_webhook', source: 'https://hooks\\.slack\\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]{8,}', keywords: ['https://hooks.slack.com/'] },
  { name: 'anthropic_key', source: 'sk-ant-(?<![A-Za-z0-9_-]sk-ant-)[A-Za-z0-9_-]{20,}', keywords: ['sk-ant-'] },
  // sk-… (OpenAI and look-alikes); a real key has digits, `sk-cluster-deployment-east` has not.
  { name: 'openai_key', source: 'sk-(?<![A-Za-z0-9_-]sk-)(?=[A-Za-z0-9_-]{0,200}\\d)[A-Za-z0-9_-]{20,}', keywords: ['sk-'] },
  { name: 'aws_access_key', source: `(?:AKIA|ASIA|ABIA|ACCA)${wordStart(4)}[A-Z0-9]{16}\\b`, keywords: ['AKIA', 'ASIA', 'ABIA', 'ACCA'] },
  {
    name: 'github_token',
    source: `(?:gh[pousr]_${wordStart(4)}[A-Za-z0-9]{36,251}|github_pat_${wordStart(11)}[A-Za-z0-9_]{22,251})\\b`,
    keywords: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_'],
  },
  { name: 'slack_token', source: '(?:xox[abposer]|xapp)-(?<![A-Za-z0-9_-]x[a-z]{3}-)[A-Za-z0-9-]{10,250}', keywords: ['xox', 'xapp-'] },
  {
    name: 'stripe_key',
    source: `(?:[sr]k_(?:live|test)_${wordStart(8)}[A-Za-z0-9]{10,247}|whsec_${wordStart(6)}[A-Za-z0-9+/=]{20,})\\b`,
    keywords: ['k_live_', 'k_test_', 'whsec_'],
  },
  { name: 'google_api_key', source: `AIza${wordStart(4)}[0-9A-Za-z_-]{35}`, keywords: ['AIza'] },
  {
    name: 'google_oauth',
    source: '(?:GOCSPX-(?<![A-Za-z0-9_-]GOCSPX-)[0-9A-Za-z_-]{20,}|ya29\\.(?<![A-Za-z0-9_].{5})[0-9A-Za-z_-]{20,})',
    keywords: ['GOCSPX-', 'ya29.'],
  },
  { name: 'email', source: '(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\\.)+[A-Za-z]{2,63}\\b', needs: AT },
  { name: 'ssn', source: '\\b(?!000|666|9\\d\\d)\\d{3}-(?!00)\\d{2}-(?!0000)\\d{4}\\b', accept: standsAlone, needs: DIGIT_GROUPS },
  // 13-19 digits, as one run or in the printed groups (4-4-4-4[-3], Amex 4-6-5); Luhn and a
  // network prefix decide. Fixed groups, not `(\d[ -]?){12,18}`: "4 4 4 4 …" gives no candidates.
  {
    name: 'card',
    source: '\\b(?:\\d{13,19}|\\d{4}[ -]\\d{4}[ -]\\d{4}[ -]\\d{1,4}(?:[ -]\\d{3})?|\\d{4}[ -]\\d{6}[ -]\\d{4,5})\\b',
    accept: (m, s, i) => isCardNumber(m) && standsAlone(m, s, i),
    needs: DIGIT_GROUPS | LONG_NUMBER,
  },
  {
    name: 'phone',
    // +international; (415) 555-2671, 415.555.2671, 415 555 2671; national 020 7946 0958 (spaces
    // only: with dashes, pieces of a UUID look like one). Separators are required, so a bare run
    // of digits (an id, an epoch) is not a phone.
    source: alt('\\+[1-9](?:[ .()-]{0,2}\\d){7,14}\\b', '(?:\\(\\d{3}\\)[ .-]?|\\b\\d{3}[ .-])\\d{3}[ .-]\\d{4}\\b', '\\b0\\d{1,4} \\d{3,4} \\d{3,4}\\b'),
    accept: isPhone,
    needs: DIGIT_GROUPS | PLUS_NUMBER,
  },
  { name: 'ip', source: `\\b${OCTET}(?:\\.${OCTET}){3}\\b`, accept: isPersonalIPv4, needs: DOTTED_NUMBER },
  {
    name: 'ipv6',
    // Full form, or compressed with `::`; a time (10:30:45) has neither. isIPv6 has the last word.
    source: alt(`(?:${H16}:){7}${H16}`, `(?:${H16}:){1,6}:(?:${H16}(?::${H16}){0,5})?`, `::(?:${H16}(?::${H16}){0,6})`),
    typeOf: () => 'ip',
    types: ['ip'],
    accept: isPersonalIPv6,
    needs: IPV6,
  },
];

/** The types the built-in detectors report, for docs and tests. */
export const DETECTED_TYPES: readonly BuiltinType[] = [...new Set(DETECTORS.flatMap((d) => d.types ?? [d.name]))] as BuiltinType[];
