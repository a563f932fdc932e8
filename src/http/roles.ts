/**
 * The one role matrix (DESIGN §12). Every route names the access it needs; the
 * server's one auth hook checks the caller's role against this table, so a
 * route cannot forget its check and no route decides on its own.
 */
export const ROLES = ['auditor', 'operator', 'producer', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * What a route needs:
 * - public: no token (health probes, the dashboard's static files: they hold no data);
 * - any: any valid token (the OpenAPI document, who-am-I);
 * - read: records, proofs, checkpoint and tiles, reports, integrity verdict;
 * - operate: status, metrics, holds, sweeps;
 * - ingest: POST events and OTLP logs.
 */
export type Access = 'public' | 'any' | 'read' | 'operate' | 'ingest';

export const MATRIX: Record<Exclude<Access, 'public' | 'any'>, readonly Role[]> = {
  read: ['auditor', 'operator', 'admin'],
  operate: ['operator', 'admin'],
  ingest: ['producer', 'admin'],
};

export function allows(role: Role, access: Access): boolean {
  return access === 'public' || access === 'any' || MATRIX[access].includes(role);
}

export const isRole = (s: string): s is Role => (ROLES as readonly string[]).includes(s);
