import type { Catalogue } from '../model.js';
import * as j from './common.js';

/** ALCOA+ data-integrity attributes (MHRA, WHO, PIC/S guidance). */
export const alcoa: Catalogue = {
  standard: 'alcoa',
  title: 'ALCOA+ — Data Integrity',
  clauses: [
    j.clause('A', 'Attributable', j.attributable),
    j.clause('L', 'Legible', (e) =>
      j.withIntegrity(e, {
        status: 'met',
        evidence: ['records are canonical JSON lines, readable with the standard lz4 and jq tools and with sealog query; this report renders them for people'],
      }),
    ),
    j.clause('C', 'Contemporaneous', j.contemporaneous),
    j.clause('O', 'Original', (e) =>
      j.withIntegrity(e, {
        status: 'met',
        evidence: [
          'each record is the first capture as received (after the listed redactions), sealed at receipt; the hash chain shows it was not changed after',
          `${j.fmt(e.attributability.original)} of ${j.fmt(e.attributability.records)} producer records marked original (a whole-workflow summary is marked derived)`,
        ],
      }),
    ),
    j.clause('A+', 'Accurate', (e) => j.integrity(e)),
    j.clause('C+', 'Complete', j.complete),
    j.clause('C++', 'Consistent', (e) =>
      j.withIntegrity(e, {
        status: e.coverage.ts_out_of_order ? 'partial' : 'met',
        evidence: [
          "one sequence, one chain, one clock (sealog's receive time) for every record",
          `${e.coverage.ts_out_of_order} receive time(s) earlier than the record before`,
        ],
      }),
    ),
    j.clause('E', 'Enduring', (e) =>
      j.withIntegrity(e, {
        status: 'met',
        evidence: [
          "committed = written and fsync'd; segments are never rewritten; a crash loses nothing acknowledged",
          `${e.recoveries.length} recovery record(s) in the period`,
        ],
      }),
    ),
    j.clause('A++', 'Available', j.availability),
  ],
};
