import type { Catalogue, Standard } from '../model.js';
import { alcoa } from './alcoa.js';
import { annex11 } from './annex11.js';
import { gdpr } from './gdpr.js';
import { hipaa } from './hipaa.js';
import { part11 } from './part11.js';
import { soc2 } from './soc2.js';

export const catalogues: Record<Standard, Catalogue> = { part11, annex11, alcoa, hipaa, soc2, gdpr };
