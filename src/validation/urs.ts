// The user requirements specification (URS) of sealog as a GAMP 5 category 4 logging
// component: each requirement a logging system can meet under 21 CFR Part 11, EU Annex 11,
// ALCOA+ and GDPR, the feature that meets it, and (in the tests' names, e.g.
// "[URS-P11-010] ...") the tests that show it. The traceability matrix is generated from
// the names of the tests that ran; nothing here lists tests.

export interface Requirement {
  id: string;
  /** The regulation or guidance and its clause. */
  source: string;
  requirement: string;
  /** How sealog meets it. */
  feature: string;
}

export const URS: Requirement[] = [
  {
    id: 'URS-P11-010',
    source: '21 CFR 11.10(a); Annex 11 §4, §7.1',
    requirement: 'The system detects invalid or altered records.',
    feature: 'Hash chain, Merkle tree and signed checkpoints; sealog verify re-derives every hash and names the first broken seq, segment and byte offset.',
  },
  {
    id: 'URS-P11-020',
    source: '21 CFR 11.10(b); Annex 11 §8.1',
    requirement: 'Accurate and complete copies of records in human-readable and electronic form.',
    feature: 'sealog report (JSON and self-contained A4 HTML), sealog query --format jsonl, lz4 -dc.',
  },
  {
    id: 'URS-P11-030',
    source: '21 CFR 11.10(c); Annex 11 §17; GDPR Art. 5(1)(e)',
    requirement:
      'Records are protected and retrievable throughout their retention period; removal only when the period ends and no hold applies, and recorded.',
    feature: 'Retention per stream removes whole expired segments and seals a removal record; legal holds keep covered segments.',
  },
  {
    id: 'URS-P11-050',
    source: '21 CFR 11.10(e); Annex 11 §9',
    requirement: 'A secure, computer-generated, time-stamped audit trail in which a change never obscures earlier entries.',
    feature: 'Append-only sealed records with gap-free seq and a receive time stamped by sealog; acknowledgements only after fsync.',
  },
  {
    id: 'URS-P11-070',
    source: '21 CFR 11.10(g)',
    requirement: 'Only authorized individuals can sign records.',
    feature: 'Signer keys registered in keys/signers.pub; the daemon refuses, and verify fails, a signature by an unregistered signer.',
  },
  {
    id: 'URS-P11-080',
    source: '21 CFR 11.10(h)',
    requirement: 'The source of each input is recorded and cannot be claimed by the sender.',
    feature: 'Each socket record carries the sender pid/uid/gid from the kernel (SO_PEERCRED); spool records the file and line.',
  },
  {
    id: 'URS-P11-090',
    source: '21 CFR 11.50',
    requirement: 'A signed record shows the printed name of the signer, the date and time, and the meaning of the signature.',
    feature: 'sealog sign seals a sealog.signature record with signer name and key id, signed_at and meaning.',
  },
  {
    id: 'URS-P11-100',
    source: '21 CFR 11.70',
    requirement: 'Signatures are linked to their records so they cannot be excised, copied or transferred to falsify a record.',
    feature: 'The signature covers the hashes of the signed records; verify fails a signature moved to another record or over an altered record.',
  },
  {
    id: 'URS-P11-110',
    source: '21 CFR 11.200(a)',
    requirement: 'An electronic signature employs two distinct identification components.',
    feature: 'The signer key file (scrypt + AES-256-GCM) and its passphrase are both needed to sign.',
  },
  {
    id: 'URS-ALC-010',
    source: 'ALCOA+ Attributable',
    requirement: 'Each record states who acted, when and where, as far as the event says.',
    feature: 'Classification derives meta.alcoa who/when/where; the report states attributability coverage.',
  },
  {
    id: 'URS-ALC-020',
    source: 'ALCOA+ Legible; Annex 11 §8.1',
    requirement: 'Records and reports are readable by people, on screen and printed.',
    feature: 'Canonical JSON lines; the HTML report prints on A4 with the same figures as the JSON.',
  },
  {
    id: 'URS-ALC-030',
    source: 'ALCOA+ Contemporaneous',
    requirement: 'Records are time-stamped when received and gaps in recording are visible.',
    feature: 'ts stamped at receipt (µs, UTC); the report lists receive-time gaps and clock steps.',
  },
  {
    id: 'URS-ALC-050',
    source: 'ALCOA+ Accurate',
    requirement: 'A record that was changed is detected, and reports state the verification verdict.',
    feature: 'sealog verify; the report verifies the whole log and marks the clauses resting on integrity not_met when it fails.',
  },
  {
    id: 'URS-ALC-060',
    source: 'ALCOA+ Complete; Annex 11 §5',
    requirement: 'Nothing is silently lost: bad input is kept with a reason, and every record is counted.',
    feature: 'Rejected lines are sealed as dead-letter records with a code; the report counts by stream, type, level, source and reject code.',
  },
  {
    id: 'URS-ALC-070',
    source: 'ALCOA+ Consistent',
    requirement: 'One gap-free sequence across restarts.',
    feature: 'seq continues across restart and recovery; verify checks continuity.',
  },
  {
    id: 'URS-ALC-080',
    source: 'ALCOA+ Enduring',
    requirement: 'A record acknowledged as committed survives a crash.',
    feature: "Commit = frame written and fsync'd before the ack; torn tails are cut and recorded at restart.",
  },
  {
    id: 'URS-ALC-090',
    source: 'ALCOA+ Available',
    requirement: 'Records can be found and read for review throughout their life.',
    feature: 'sealog query with filters and an index; records are checked before they are printed.',
  },
  {
    id: 'URS-GMP-010',
    source: 'GAMP 5; Annex 11 §4',
    requirement: 'Validation evidence traces each requirement to tests that ran and passed.',
    feature: 'npm run validation-pack: URS, traceability matrix generated from test names, test log.',
  },
  {
    id: 'URS-GMP-020',
    source: 'GAMP 5; Annex 11 §10',
    requirement: 'The configuration is validated before it is used.',
    feature: 'sealog validate (systemd ExecStartPre); the daemon refuses an invalid config listing every error.',
  },
  {
    id: 'URS-GMP-030',
    source: 'GAMP 5 (independent verification)',
    requirement: 'The integrity of the trail can be checked by software independent of sealog.',
    feature: 'The format is specified (DESIGN §2-3); an independent Python verifier recomputes every hash, the chain and the checkpoint roots.',
  },
  {
    id: 'URS-GMP-040',
    source: 'GAMP 5 installation qualification',
    requirement: 'The installation is recorded: versions and checksums of the installed files.',
    feature: 'The validation pack records Node, OS, sealog version and the SHA-256 of every installed file.',
  },
  {
    id: 'URS-GDPR-010',
    source: 'GDPR Art. 15',
    requirement: 'What the trail holds about one person can be listed without the trail storing the identifier.',
    feature: 'report --standard gdpr --subject KIND:VALUE and query --pseudonym find records by the keyed HMAC pseudonym.',
  },
  {
    id: 'URS-GDPR-030',
    source: 'GDPR Art. 25, 32; HIPAA 164.514',
    requirement: 'Personal data and secrets do not reach the trail in clear.',
    feature: 'Sanitize pseudonymizes PII with a keyed HMAC and removes secrets, listing each change.',
  },
];
