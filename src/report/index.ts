// The report engine as other readers use it (the HTTP API's GET /api/v1/reports/{standard}).
export { buildReport, type ReportOptions } from './build.js';
export { renderHtml } from './html.js';
export { STANDARDS, type ReportJson, type Standard } from './model.js';
