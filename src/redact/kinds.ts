import { digitsOf } from './checks.js';

// The kinds of secret and PII sanitize knows, each with its default action, how its
// value is normalized before pseudonymizing (so spellings of one value meet) and
// how it is masked. A redaction's kind is `<class>:<type>`, e.g. `secret:jwt`, `pii:email`;
// classify marks a record `pii` when any redaction kind starts with `pii:`.

export const ACTIONS = ['pseudonymize', 'mask', 'remove', 'keep'] as const;
export type Action = (typeof ACTIONS)[number];
export type KindClass = 'secret' | 'pii';

export interface KindInfo {
  cls: KindClass;
  action: Action;
  normalize?: (v: string) => string;
  mask?: (v: string) => string;
}

const lower = (v: string) => v.trim().toLowerCase();
const digits = (v: string) => digitsOf(v);
const secret: KindInfo = { cls: 'secret', action: 'remove' };

export const KINDS = {
  // Secrets: removed by default, leaving `[REDACTED:<type>]`.
  private_key: secret,
  jwt: secret,
  bearer_token: secret,
  authorization: secret,
  connection_string: secret,
  openai_key: secret,
  anthropic_key: secret,
  aws_access_key: secret,
  aws_secret_key: secret,
  github_token: secret,
  slack_token: secret,
  slack_webhook: secret,
  stripe_key: secret,
  google_api_key: secret,
  google_oauth: secret,
  password: secret,
  secret: secret,
  token: secret,
  api_key: secret,
  credentials: secret,
  cookie: secret,
  // PII: pseudonymized by default with the keyed HMAC (`pii:<type>:<24 hex>`).
  email: { cls: 'pii', action: 'pseudonymize', normalize: lower, mask: (v) => `***@${lower(v.slice(v.lastIndexOf('@') + 1))}` },
  phone: { cls: 'pii', action: 'pseudonymize', normalize: digits, mask: (v) => `***${digits(v).slice(-2)}` },
  card: { cls: 'pii', action: 'pseudonymize', normalize: digits, mask: (v) => `****${digits(v).slice(-4)}` },
  ssn: { cls: 'pii', action: 'pseudonymize', normalize: digits, mask: (v) => `***-**-${digits(v).slice(-4)}` },
  national_id: { cls: 'pii', action: 'pseudonymize', normalize: (v) => v.replace(/[\s.-]+/g, '').toUpperCase(), mask: (v) => `***${v.slice(-2)}` },
  ip: { cls: 'pii', action: 'pseudonymize', normalize: lower, mask: maskIp },
  name: {
    cls: 'pii',
    action: 'pseudonymize',
    normalize: (v) => v.normalize('NFC').trim().replace(/\s+/g, ' ').toLowerCase(),
    mask: (v) => `${v.trim().slice(0, 1)}***`,
  },
} satisfies Record<string, KindInfo>;

export type BuiltinType = keyof typeof KINDS;
export const BUILTIN_TYPES = Object.keys(KINDS) as BuiltinType[];

function maskIp(v: string): string {
  if (v.includes(':')) return `${v.split(':').slice(0, 2).join(':')}:x:x`;
  return `${v.split('.').slice(0, 2).join('.')}.x.x`;
}

/** A mask for kinds without their own: secrets keep a 4-character hint when long, PII keeps nothing. */
export function defaultMask(cls: KindClass, v: string): string {
  return cls === 'secret' && v.length >= 16 ? `${v.slice(0, 4)}***` : '***';
}
