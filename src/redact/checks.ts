import { isIPv6 } from 'node:net';

// Checks a candidate must pass to count as a hit. They run only on regex candidates
// (rare in ordinary text), never on every string.

export function digitsOf(s: string): string {
  return s.replace(/\D+/g, '');
}

/** Luhn mod-10 over a string of digits. */
export function luhn(digits: string): boolean {
  let sum = 0;
  let dbl = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (dbl && (d *= 2) > 9) d -= 9;
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 === 0;
}

// Issuer prefixes of the card networks (Visa 4, Mastercard 51-55 and 2221-2720, Amex 34/37,
// Diners 30/36/38, JCB 35, Discover/UnionPay/Maestro 6). A Luhn-valid run that starts otherwise
// (an epoch-milliseconds timestamp starts with 1) is not a card.
const CARD_PREFIX = /^(?:4|5[1-5]|2[2-7]|3[0-8]|6)/;

/** 13-19 digits, a card network's prefix, and a valid Luhn check digit. */
export function isCardNumber(candidate: string): boolean {
  const c = candidate.charCodeAt(0);
  if (c < 0x32 || c > 0x36) return false; // 2-6: no network starts otherwise (cheap first cut)
  const d = digitsOf(candidate);
  return d.length >= 13 && d.length <= 19 && CARD_PREFIX.test(d) && luhn(d);
}

/** An IPv4 candidate is a hit unless it is part of a longer dotted number (a version) or not a host's address. */
export function isPersonalIPv4(m: string, input: string, index: number): boolean {
  const before = index > 0 ? input.charCodeAt(index - 1) : 0;
  const after = input.charCodeAt(index + m.length);
  if (before === 0x2e /* . */) return false; // x.1.2.3.4: a version, not an address
  if (after === 0x2e && isDigit(input.charCodeAt(index + m.length + 1))) return false;
  // 0.0.0.0/8 (unspecified), 127/8 (loopback) and the broadcast address point at no one.
  return !(m.startsWith('0.') || m.startsWith('127.') || m === '255.255.255.255');
}

/** An IPv6 candidate must stand alone (not `std::fs`, not inside a longer token) and parse. */
export function isPersonalIPv6(m: string, input: string, index: number): boolean {
  if (isWordOrColon(input.charCodeAt(index - 1)) || isWordOrColon(input.charCodeAt(index + m.length))) return false;
  if (!isIPv6(m)) return false;
  return m !== '::1' && m !== '::'; // loopback and unspecified point at no one
}

/**
 * A number-shaped candidate must not be a piece of a longer token: `0386-4451-9229` inside
 * a UUID, or `12345678-1234-1234` inside an all-digit one, is no phone or card.
 */
export function standsAlone(m: string, input: string, index: number): boolean {
  const before = input.charCodeAt(index - 1);
  const end = index + m.length;
  const after = input.charCodeAt(end);
  if (isWord(before) || before === 0x2d /* - */) return false;
  if (isWord(after)) return false;
  return !(after === 0x2d && isWord(input.charCodeAt(end + 1)));
}

/** Phone candidates: 8-15 digits (E.164 allows at most 15), standing alone. */
export function isPhone(m: string, input: string, index: number): boolean {
  const n = digitsOf(m).length;
  return n >= 8 && n <= 15 && standsAlone(m, input, index);
}

// The value of `password=…`, `customer_name: …`: `token: 42` is a count (prompt tokens), not a
// secret; `password: null`, `secret=***`, `token=${TOKEN}` hide nothing. Every form is short: a
// longer value is real, so a rejected candidate never spans more than a few dozen characters and
// the scan after it cannot rescan much (a placeholder of any length made `pwd=${pwd=${…` quadratic).
const MAX_PLACEHOLDER = 64;
const NOT_A_SECRET = /^(?:\\?["'])?(?:true|false|null|none|nil|undefined|\*+|x+|\[REDACTED[^\]]*\]?|<[^>]*>|\$\{[^}]*\}?|%[sdr])(?:\\?["'])?$/i;
export function isRealValue(value: string, type: string): boolean {
  if (value.length > MAX_PLACEHOLDER) return true;
  if (value.length === 0 || NOT_A_SECRET.test(value)) return false;
  if (type === 'token' && /^(?:\\?["'])?\d+(?:\\?["'])?$/.test(value)) return false;
  return true;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
function isWord(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}
function isWordOrColon(c: number): boolean {
  return (c >= 0x30 && c <= 0x3a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}
