/** What verify reports: a failure (the first one stops it) or a warning, with where it was found. */
export interface Finding {
  code: string;
  message: string;
  seq?: number;
  segment?: string;
  offset?: number;
  file?: string;
}

/** Thrown by fail(): verifyLog turns it into the verdict's failure. */
export class Failed extends Error {
  constructor(readonly finding: Finding) {
    super(finding.message);
  }
}

export const fail = (f: Finding): never => {
  throw new Failed(f);
};
