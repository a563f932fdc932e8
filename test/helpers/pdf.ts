import { spawnSync } from 'node:child_process';
import { chromium } from 'playwright-core';

// Prints an HTML file to A4 PDF in headless Chromium (the system's /usr/bin/chromium)
// and reads its text back with pdftotext (poppler-utils): what a printed copy says.

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

export async function printToPdf(htmlFile: string, pdfFile: string): Promise<{ requests: string[] }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  try {
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`file://${htmlFile}`, { waitUntil: 'load' });
    await page.pdf({ path: pdfFile, format: 'A4', preferCSSPageSize: true, printBackground: true });
    return { requests };
  } finally {
    await browser.close();
  }
}

/** The PDF's text, as pdftotext lays it out (-layout keeps table rows on one line). */
export function pdfText(pdfFile: string): { text: string; pages: number } {
  const r = spawnSync('pdftotext', ['-layout', pdfFile, '-'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pdftotext failed: ${r.stderr}`);
  return { text: r.stdout, pages: (r.stdout.match(/\f/g) ?? []).length };
}
