import type { Catalogue } from '../model.js';
import * as j from './common.js';

/** 21 CFR Part 11, Subparts B and C, as a logging system can evidence them. */
export const part11: Catalogue = {
  standard: 'part11',
  title: '21 CFR Part 11 — Electronic Records; Electronic Signatures',
  clauses: [
    j.clause('11.10(a)', 'Validation; ability to discern invalid or altered records', (e) =>
      j.integrity(e, ['validation of sealog itself: the validation pack (npm run validation-pack) traces each requirement to the tests that passed']),
    ),
    j.clause('11.10(b)', 'Accurate and complete copies in human readable and electronic form', j.copies),
    j.clause('11.10(c)', 'Protection of records for accurate and ready retrieval throughout the retention period', j.retention),
    j.clause('11.10(d)', 'Limiting system access to authorized individuals', (e) => ({
      status: 'partial',
      evidence: [
        'sealog limits who can write (socket and spool directory file modes; HTTP tokens by role) and records the kernel-reported sender of each socket record',
        `socket records with sender credentials: ${j.fmt(e.peer_credentials.with_peer)} of ${j.fmt(e.peer_credentials.socket_records)}`,
        'sealog cannot evidence the operating system accounts and their approval: keep those records in your access management',
      ],
    })),
    j.clause('11.10(e)', 'Secure, computer-generated, time-stamped audit trail that does not obscure previous entries', j.auditTrail),
    j.clause('11.10(f)', 'Operational system checks to enforce permitted sequencing', (e) =>
      j.withIntegrity(e, {
        status: 'partial',
        evidence: [
          'sealog enforces its own sequencing (gap-free seq, chained hashes, verified)',
          "sealog cannot evidence the sequencing of the producers' workflow steps: that is the producing system's check",
        ],
      }),
    ),
    j.clause('11.10(g)', 'Authority checks', (e) => ({
      status: e.signatures.length ? 'partial' : 'not_applicable',
      evidence: [
        e.signatures.length ? `${e.signatures.length} signature(s) by signers registered in keys/signers.pub (checked)` : 'no signatures in the period',
        'sealog cannot evidence who is authorized to perform operations in the producing systems',
      ],
    })),
    j.clause('11.10(h)', 'Device checks: validity of the source of data input', (e) => ({
      status: e.peer_credentials.socket_records && e.peer_credentials.with_peer === e.peer_credentials.socket_records ? 'met' : 'partial',
      evidence: [
        `every record names its source (socket connection and line, or spool file, line and content fingerprint): ${
          Object.entries(e.counts.by_source)
            .map(([k, v]) => `${k} ${j.fmt(v)}`)
            .join(', ') || 'none'
        }`,
        `socket records with kernel-reported sender pid/uid/gid: ${j.fmt(e.peer_credentials.with_peer)} of ${j.fmt(e.peer_credentials.socket_records)}`,
      ],
    })),
    j.outside('11.10(i)', 'Education, training and experience of persons', 'training records: not_applicable (training is kept in your QMS, not in a log)'),
    j.outside('11.10(j)', 'Written policies holding individuals accountable for their signatures', 'written policies live in your QMS'),
    j.outside(
      '11.10(k)',
      'Controls over systems documentation',
      "distribution of and changes to documentation are managed in your document control (the validation pack records sealog's version and installed files)",
    ),
    j.outside(
      '11.30',
      'Controls for open systems',
      'sealog runs as a closed system on a local Unix socket; encryption in transit for its HTTP API is TLS, configured by you',
    ),
    j.clause('11.50', 'Signature manifestations: printed name, date and time, meaning', j.signatures),
    j.clause('11.70', 'Signature/record linking', j.signatures),
    j.clause('11.100', 'Uniqueness of electronic signatures', (e) => ({
      status: e.signatures.length ? 'partial' : 'not_applicable',
      evidence: [
        'each signer key is registered once, under one printed name (keys/signers.pub)',
        "sealog cannot evidence the verification of a person's identity before registration, nor the certification to FDA (11.100(c))",
      ],
    })),
    j.clause('11.200(a)', 'Signature components: two distinct identification components', j.twoComponents),
    j.outside(
      '11.300',
      'Controls for identification codes and passwords',
      'the periodic checking, recall and loss management of passphrases and key files is your procedure',
    ),
  ],
};
