import { ErrorCode, SealogError } from '../errors.js';
import type { BuiltinType } from './kinds.js';

// Field rules: which object keys hold a secret or PII whatever their value looks like.
// Built-in rules match the key in snake_case (`customerEmail`, `Customer-Email` and
// `customer_email` are one key) and only as a whole word at its end, so `api_key_hash`,
// `prompt_tokens` or `password_changed_at` are not secrets.

/** `customerEmail`, `X-Api-Key`, `SecretAccessKey` → `customer_email`, `x_api_key`, `secret_access_key`. */
export function snakeKey(k: string): string {
  return k
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toLowerCase();
}

const word = (alts: string) => new RegExp(`(?:^|_)(?:${alts})$`);

/**
 * Defaults fitting DESIGN §6's shapes: `customer_email` and `ip_address` are PII;
 * `user_id`, `actor`, `agent_id`, `session_id`, `tenant_id` are already pseudonymous ids
 * (and the ALCOA "attributable" link), so they stay; `api_key_hash` is a digest of a
 * high-entropy key (no dictionary reverses it) that lets auditors correlate key use, so it stays.
 * Bare `name` is not here: most are tool, agent or service names (add a path rule for yours).
 */
export const BUILTIN_KEY_RULES: readonly [RegExp, BuiltinType][] = [
  [word('password|passwd|passphrase|pwd'), 'password'],
  [word('secret_access_key'), 'aws_secret_key'],
  [word('secret|secret_key'), 'secret'],
  [word('api_?key|access_key|apikey|subscription_key'), 'api_key'],
  [word('private_key'), 'private_key'],
  [word('token'), 'token'],
  [word('authorization'), 'authorization'],
  [word('cookies?'), 'cookie'],
  [word('credentials?'), 'credentials'],
  [word('connection_string|conn_str|dsn|database_url|db_url'), 'connection_string'],
  [word('e_?mail|e_?mail_address'), 'email'],
  [word('phone|phone_number|telephone|tel|mobile|mobile_number|fax|msisdn'), 'phone'],
  [word('card_number|credit_card|credit_card_number|cc_number|pan'), 'card'],
  [word('ssn|social_security_number'), 'ssn'],
  [
    word(
      'national_id|national_id_number|nino|national_insurance_number|passport|passport_number|passport_no|tax_id|driver_license|drivers_license|driving_licence',
    ),
    'national_id',
  ],
  [word('ip|ip_address|ipaddress|ip_addr|client_ip|remote_ip|remote_addr|source_ip|src_ip|x_forwarded_for|x_real_ip'), 'ip'],
  [
    /^(?:(?:full|first|last|given|family|middle|maiden|legal|display|nick)_?name|surname|(?:customer|patient|user|employee|person|contact|operator|reviewer|approver|author|signer|requester|cardholder|holder|subject)_(?:full_)?name)$/,
    'name',
  ],
];

export function builtinKeyType(k: string): BuiltinType | undefined {
  const s = snakeKey(k);
  for (const [re, type] of BUILTIN_KEY_RULES) if (re.test(s)) return type;
  return undefined;
}

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
/** A key as it appears in a `redactions` path: `.key`, or `["odd key"]`. */
export function pathKey(k: string): string {
  return PLAIN_KEY.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`;
}

const TOKEN = /\.([A-Za-z_$][A-Za-z0-9_$]*|\*)|\[(\d+|\*|"(?:[^"\\]|\\.)*")\]/y;
const ANY_KEY = '(?:\\.[A-Za-z_$][A-Za-z0-9_$]*|\\["(?:[^"\\\\]|\\\\.)*"\\])';
const escape = (s: string) => s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');

/**
 * Compiles a path pattern, in the syntax of `redactions` paths, to a regex over those
 * paths: `event.payload.context.ip_address`, `event.items[*].email` (any index),
 * `event.*.customer_name` (any one key), `event["odd key"].x`. It must end in a field
 * name, which is what the rule applies to (with everything below it).
 */
export function compilePath(pattern: string): { re: RegExp; lastKey: string } {
  const bad = (why: string) => new SealogError(ErrorCode.CONFIG_INVALID, `redact path ${JSON.stringify(pattern)}: ${why}`);
  if (!pattern.startsWith('event')) throw bad("must start with 'event' (paths are written as in `redactions`)");
  let re = '^event';
  let lastKey: string | undefined;
  TOKEN.lastIndex = 5;
  while (TOKEN.lastIndex < pattern.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(pattern);
    if (!m) throw bad(`cannot read it from character ${at + 1}`);
    const [, dotted, bracket] = m;
    lastKey = undefined;
    if (dotted === '*' || bracket === '*') {
      re += dotted === '*' ? ANY_KEY : '\\[\\d+\\]';
    } else if (bracket !== undefined && /^\d+$/.test(bracket)) {
      re += `\\[${bracket}\\]`;
    } else {
      const key = dotted ?? (JSON.parse(bracket!) as string);
      re += escape(pathKey(key));
      lastKey = key;
    }
  }
  if (lastKey === undefined) throw bad('must end in a field name (a rule applies to a field and everything below it)');
  return { re: new RegExp(`${re}$`), lastKey };
}
