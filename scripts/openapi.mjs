#!/usr/bin/env node
// Writes docs/openapi.json: the HTTP API's OpenAPI document, generated from the route
// schemas (src/http/openapi.ts). Run after changing a route: npx tsc -p . && node scripts/openapi.mjs
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const { openapiDocument } = await import(join(ROOT, 'dist/src/http/openapi.js'));
writeFileSync(join(ROOT, 'docs/openapi.json'), `${JSON.stringify(await openapiDocument(), null, 2)}\n`);
console.log('docs/openapi.json written');
