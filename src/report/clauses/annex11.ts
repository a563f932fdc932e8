import type { Catalogue } from '../model.js';
import * as j from './common.js';

/** EU GMP Annex 11 (Computerised Systems), the clauses a logging system bears on. */
export const annex11: Catalogue = {
  standard: 'annex11',
  title: 'EU GMP Annex 11 — Computerised Systems',
  clauses: [
    j.outside('1', 'Risk management', "the risk assessment of your process is yours; sealog's own is in the validation pack"),
    j.clause('4', 'Validation', (e) =>
      j.integrity(e, ['validation evidence for sealog: npm run validation-pack (URS, traceability to tests that passed, installation evidence)']),
    ),
    j.clause('5', 'Data: built-in checks for correct and secure entry and processing', (e) =>
      j.withIntegrity(e, {
        status: 'met',
        evidence: [
          `every input line is parsed and checked; ${j.fmt(e.counts.rejected.total)} rejected with a code and sealed as dead letters, never dropped`,
          'sanitize neutralizes control characters and caps depth and size; a JSON Schema per type where configured',
        ],
      }),
    ),
    j.clause('7.1', 'Data storage: secured against damage, accessible, readable, accuracy checked', (e) =>
      j.integrity(e, ["segments are LZ4 frames readable by the standard lz4 tool; every commit is fsync'd before it is acknowledged"]),
    ),
    j.clause('7.2', 'Regular back-ups, their integrity checked', (e) => ({
      status: 'partial',
      evidence: [
        'sinks forward every record to NATS JetStream or PostgreSQL, where sealog verify --postgres checks them',
        `this report cannot see your back-ups; ${e.sweeps.total} integrity sweep(s) of the local log in the period`,
      ],
    })),
    j.clause('8.1', 'Printouts: clear printed copies of electronically stored data', j.copies),
    j.clause('8.2', 'Printouts indicate whether data changed since entry', (e) =>
      j.withIntegrity(e, {
        status: 'met',
        evidence: ['records are never changed: a change is a new record; this report states the verification verdict and the checkpoint it covers'],
      }),
    ),
    j.clause('9', 'Audit trails', j.auditTrail),
    j.outside(
      '10',
      'Change and configuration management',
      'changes to your configuration are managed in your change control (sealog validate checks a configuration file)',
    ),
    j.clause('11', 'Periodic evaluation', j.sweeps),
    j.clause('12', 'Security: physical and logical controls', (e) => ({
      status: 'partial',
      evidence: [
        'key files 0600, sockets by file mode, HTTP by token and role',
        `socket records with kernel-reported sender: ${j.fmt(e.peer_credentials.with_peer)} of ${j.fmt(e.peer_credentials.socket_records)}`,
        'sealog cannot evidence physical security or account management',
      ],
    })),
    j.clause('13', 'Incident management', j.incidents),
    j.clause('14', 'Electronic signature', j.signatures),
    j.outside('16', 'Business continuity', 'continuity plans are yours; sinks can keep a second copy'),
    j.clause('17', 'Archiving', j.retention),
  ],
};
