import type { Catalogue } from '../model.js';
import * as j from './common.js';

/** HIPAA Security Rule technical safeguards (45 CFR 164.312) and documentation retention. */
export const hipaa: Catalogue = {
  standard: 'hipaa',
  title: 'HIPAA Security Rule — Technical Safeguards (45 CFR §164.312)',
  clauses: [
    j.clause('164.312(a)(1)', 'Access control', (e) => ({
      status: 'partial',
      evidence: [
        'who may write: socket and spool file modes, HTTP tokens by role; who wrote: kernel-reported sender of socket records',
        `${j.fmt(e.peer_credentials.with_peer)} of ${j.fmt(e.peer_credentials.socket_records)} socket records carry it`,
        'sealog cannot evidence the access control of the systems holding ePHI',
      ],
    })),
    j.clause('164.312(b)', 'Audit controls', j.auditTrail),
    j.clause('164.312(c)(1)', 'Integrity: protect ePHI from improper alteration or destruction', (e) => j.integrity(e)),
    j.clause('164.312(c)(2)', 'Mechanism to authenticate ePHI', (e) =>
      j.integrity(e, ['anyone with the public key can verify offline, and prove one record with an inclusion proof']),
    ),
    j.clause('164.312(d)', 'Person or entity authentication', j.attributable),
    j.outside(
      '164.312(e)(1)',
      'Transmission security',
      'producers write to a local Unix socket; the HTTP API uses TLS you configure; transport beyond the host is not in this log',
    ),
    j.clause('164.316(b)(2)', 'Retention of documentation (6 years)', j.retention),
    j.clause('164.514(b)', 'De-identification (as far as the trail goes)', j.redaction),
  ],
};
