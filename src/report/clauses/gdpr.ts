import type { Catalogue } from '../model.js';
import * as j from './common.js';

/** GDPR articles a processing log bears on. */
export const gdpr: Catalogue = {
  standard: 'gdpr',
  title: 'GDPR — Regulation (EU) 2016/679',
  clauses: [
    j.clause('Art. 5(1)(c)', 'Data minimisation', j.redaction),
    j.clause('Art. 5(1)(e)', 'Storage limitation', j.retention),
    j.clause('Art. 5(1)(f)', 'Integrity and confidentiality', (e) => j.integrity(e, [j.redaction(e).evidence[0]!])),
    j.clause('Art. 15', 'Right of access by the data subject', (e) =>
      e.subject
        ? {
            status: 'met',
            evidence: [
              `subject ${e.subject.subject_kind} (pseudonym ${e.subject.pseudonym}): ${j.fmt(e.subject.records)} record(s) in the period, listed below; the trail holds the pseudonym, never the value`,
            ],
          }
        : {
            status: 'partial',
            evidence: [
              'available per person: sealog report --standard gdpr --subject KIND:VALUE (or sealog query --pseudonym) finds the records through the keyed pseudonym',
            ],
          },
    ),
    j.clause('Art. 17', 'Right to erasure', () => ({
      status: 'partial',
      evidence: [
        "the trail is append-only: one person's records cannot be erased from a sealed log without breaking it; retention removes whole segments",
        'what it stores about a person is pseudonymized with a keyed HMAC, so it identifies no one without the key',
      ],
    })),
    j.clause('Art. 25', 'Data protection by design and by default', j.redaction),
    j.outside('Art. 30', 'Records of processing activities', 'the register of processing is your document'),
    j.clause('Art. 32', 'Security of processing', (e) =>
      j.integrity(e, ['pseudonymization, integrity verification and regular sweeps; access by file mode and token']),
    ),
    j.outside('Art. 33', 'Notification of a personal data breach', 'breach notification is your procedure; sweep failures in this report are inputs to it'),
  ],
};
