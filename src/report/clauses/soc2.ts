import type { Catalogue } from '../model.js';
import * as j from './common.js';

/** SOC 2 Trust Services Criteria (2017, revised points of focus) a log can evidence. */
export const soc2: Catalogue = {
  standard: 'soc2',
  title: 'SOC 2 — Trust Services Criteria',
  clauses: [
    j.clause('CC4.1', 'Monitoring activities: ongoing and separate evaluations', j.sweeps),
    j.clause('CC6.1', 'Logical access security', (e) => ({
      status: 'partial',
      evidence: [
        'sockets by file mode, HTTP by token and role, key files 0600',
        `signing keys: ${e.log.key_ring.length} in the ring`,
        'sealog cannot evidence your identity and access management',
      ],
    })),
    j.clause('CC6.7', 'Restriction of transmission of information', j.redaction),
    j.clause('CC7.2', 'Monitoring system components for anomalies', j.incidents),
    j.clause('CC7.3', 'Evaluation of security events', (e) => ({
      status: 'partial',
      evidence: [
        `${j.fmt(e.counts.by_stream.security ?? 0)} security record(s) in the period`,
        'sealog records and classifies security events; evaluating them is your process',
      ],
    })),
    j.outside('CC8.1', 'Change management', "changes to systems and to sealog's configuration are approved in your change management"),
    j.clause('PI1.3', 'Processing integrity: inputs complete and accurate', j.complete),
    j.clause('PI1.5', 'Processing integrity: stored data complete, accurate and protected', (e) => j.integrity(e)),
    j.clause('A1.2', 'Availability: backup and recovery infrastructure', (e) => ({
      status: 'partial',
      evidence: [
        `${e.recoveries.length} crash recovery record(s) in the period`,
        'sinks (JetStream, PostgreSQL) can keep a second copy; this report cannot see it',
      ],
    })),
    j.clause('C1.2', 'Confidentiality: disposal of confidential information', j.retention),
  ],
};
