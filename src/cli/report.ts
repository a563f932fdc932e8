import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { loadSigner } from '../crypto/keyFiles.js';
import { ErrorCode, SealogError } from '../errors.js';
import { buildReport } from '../report/build.js';
import { renderHtml } from '../report/html.js';
import { STANDARDS, type Standard } from '../report/model.js';
import { checkReportNote, signReport } from '../report/note.js';
import { parseTime } from '../read/filter.js';
import { loadRegistry } from '../sign/registry.js';
import { layout } from '../store/layout.js';
import { parseFlags } from './args.js';
import { keyRing } from './verify.js';

export const help = `sealog report --standard part11|annex11|alcoa|hipaa|soc2|gdpr [--from T] [--to T]
              [--format html|json] [--out FILE] [--data DIR] [--key PUB] [--sign]
              [--subject KIND:VALUE] [--signers FILE] [--gap SECONDS]
sealog report --check FILE --key PUB

A compliance report: the whole log verified (as sealog verify does), the records of
the period counted (by stream, type, level, source; rejected inputs by code),
redactions by kind, the key ring and rotations, retention removals and legal holds,
integrity sweeps, time coverage and gaps in ingest, attributability (who, when,
where), electronic signatures, and each clause of the standard with its status
(met, partial, not_met, not_applicable) and the evidence for it. What sealog cannot
evidence (training, written policies) is said plainly, never marked met.
  --standard S          part11 (21 CFR Part 11), annex11 (EU GMP Annex 11), alcoa
                        (ALCOA+), hipaa (45 CFR 164.312), soc2, gdpr
  --from T, --to T      the period, on the records' receive time (from <= ts < to),
                        as sealog query --since/--until: RFC 3339
                        (2026-11-23T10:00:00Z), a date (2026-11-23) or relative
                        (15m, 2h, 7d); default the whole log
  --format F            json (for programs) or html (one self-contained file that
                        prints on A4); default html when --out ends in .html, else json
  --out FILE            write the report there (default standard output)
  --data DIR            the data directory (default ./var/data)
  --key PUB             the public key(s) you trust, as for sealog verify; without
                        it the data directory's key ring, and the report says so
  --sign                also write FILE.sig: a signed note (the log's key) naming the
                        report's SHA-256 and the checkpoint it covers (needs --out)
  --subject KIND:VALUE  GDPR subject access (with --standard gdpr): the records that
                        hold the HMAC pseudonym of the value (e.g. email:ann@example.com),
                        found without the trail ever storing it; needs keys/hmac.key
  --signers FILE        the registered signers signatures are checked against
                        (default DIR/keys/signers.pub)
  --gap SECONDS         list receive-time gaps longer than this (default 3600)
  --check FILE          check a signed report: FILE.sig must be a valid note by
                        --key over FILE's exact bytes

Exit 0 written, integrity intact (--check: the note is valid); 1 written, integrity
FAILED (--check: invalid); 2 usage or I/O error.`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    standard: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
    data: { type: 'string' },
    key: { type: 'string', multiple: true },
    sign: { type: 'boolean' },
    subject: { type: 'string' },
    signers: { type: 'string' },
    gap: { type: 'string' },
    check: { type: 'string' },
  });
  if (values.help) {
    console.log(help);
    return 0;
  }
  if (values.check !== undefined) return check(values.check, values.key ?? []);
  const standard = values.standard as Standard;
  if (!STANDARDS.includes(standard)) throw new SealogError(ErrorCode.USAGE, `--standard must be one of ${STANDARDS.join(', ')}`);
  const format = values.format ?? (values.out?.endsWith('.html') ? 'html' : 'json');
  if (format !== 'html' && format !== 'json') throw new SealogError(ErrorCode.USAGE, '--format must be html or json');
  if (values.sign && !values.out) throw new SealogError(ErrorCode.USAGE, '--sign needs --out: the note is written beside the report');
  if (values.subject && standard !== 'gdpr') throw new SealogError(ErrorCode.USAGE, '--subject is GDPR subject access: use it with --standard gdpr');
  const gap = values.gap === undefined ? 3600 : Number(values.gap);
  if (!Number.isFinite(gap) || gap <= 0) throw new SealogError(ErrorCode.USAGE, '--gap must be a positive number of seconds');
  const data = values.data ?? './var/data';
  if (!existsSync(data)) throw new SealogError(ErrorCode.USAGE, `no data directory at ${data}`);
  if (values.signers !== undefined && !existsSync(values.signers)) throw new SealogError(ErrorCode.USAGE, `--signers ${values.signers}: no such file`);
  const report = await buildReport({
    data,
    standard,
    from: values.from === undefined ? undefined : parseTime(values.from, Date.now(), '--from'),
    to: values.to === undefined ? undefined : parseTime(values.to, Date.now(), '--to'),
    keys: values.key?.length ? keyRing(values.key).map((k) => k.text) : undefined,
    subject: values.subject,
    signers: values.signers === undefined ? undefined : await loadRegistry(values.signers),
    gapSeconds: gap,
  });
  const bytes = Buffer.from(format === 'html' ? renderHtml(report) : `${JSON.stringify(report, null, 2)}\n`, 'utf8');
  if (values.out) {
    await writeFile(values.out, bytes, { mode: 0o640 });
    if (values.sign) await writeFile(`${values.out}.sig`, signReport(report, bytes, await loadSigner(layout(data))), { mode: 0o644 });
    const s = report.summary;
    process.stderr.write(
      `sealog report: ${report.standard} written to ${values.out}${values.sign ? ` (signed: ${values.out}.sig)` : ''}; integrity ${report.integrity.verdict}; ${report.counts.records} records; clauses met ${s.met}, partial ${s.partial}, not met ${s.not_met}, not applicable ${s.not_applicable}\n`,
    );
  } else process.stdout.write(bytes);
  return report.integrity.verdict === 'intact' ? 0 : 1;
}

function check(file: string, keys: string[]): number {
  if (!keys.length) throw new SealogError(ErrorCode.USAGE, '--check needs --key: the public key the note must be signed by');
  if (!existsSync(file) || !existsSync(`${file}.sig`)) throw new SealogError(ErrorCode.USAGE, `--check needs ${file} and ${file}.sig`);
  const result = checkReportNote(readFileSync(`${file}.sig`), readFileSync(file), keyRing(keys));
  if ('error' in result) {
    console.log(`INVALID: ${result.error}`);
    return 1;
  }
  console.log(`VALID: signed by ${result.signer.name} (${result.signer.keyId.toString('hex')})\n${result.text.trimEnd()}`);
  return 0;
}
