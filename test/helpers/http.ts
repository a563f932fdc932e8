import { cli, type Tmp } from './daemon.js';

// Helpers for HTTP API tests: tokens made by the real CLI, requests over real HTTP.

export const ROLE_NAMES = ['auditor', 'operator', 'producer', 'admin'] as const;
export type RoleName = (typeof ROLE_NAMES)[number];

/** One token per role, created with `sealog token create` in the test's data dir. */
export function roleTokens(t: Tmp): Record<RoleName, string> {
  const out = {} as Record<RoleName, string>;
  for (const role of ROLE_NAMES) {
    const r = cli(['token', 'create', '--role', role, '--name', `test-${role}`, '--data', t.data]);
    if (r.code !== 0) throw new Error(`token create failed: ${r.stderr}`);
    out[role] = r.stdout.trim();
  }
  return out;
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export async function call(
  base: string,
  path: string,
  o: { token?: string; method?: string; body?: string | Buffer; type?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.type) headers['content-type'] = o.type;
  const res = await fetch(base + path, { method: o.method ?? (o.body === undefined ? 'GET' : 'POST'), headers, body: o.body });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}
