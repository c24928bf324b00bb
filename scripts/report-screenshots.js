'use strict';
/**
 * `npm run screenshots`: every report, rendered from the samples `keepsake report preview` shows,
 * photographed in headless Chromium at phone (400 px) and desktop (800 px) width into
 * docs/report-screenshots/<event>-phone.png and -desktop.png (the whole mail, top to bottom), or
 * into the directory given as the first argument (to compare a change with the committed ones).
 */
const { mkdirSync } = require('node:fs');
const { join, resolve } = require('node:path');
const { REPORT_EVENT_KINDS } = require('../dist/report/events');
const { renderReport } = require('../dist/report/render');
const { SAMPLE_EVENTS, sampleNow } = require('../dist/report/render/samples');
const { WIDTHS, launchReportBrowser, openReport } = require('./report-browser');

const OUT = resolve(process.argv[2] ?? join(__dirname, '..', 'docs', 'report-screenshots'));

async function main() {
  mkdirSync(OUT, { recursive: true });
  const browser = await launchReportBrowser();
  try {
    for (const kind of REPORT_EVENT_KINDS) {
      const { html } = renderReport(SAMPLE_EVENTS[kind], { subjectPrefix: '[keepsake]', now: sampleNow(kind) });
      for (const [name, width] of Object.entries(WIDTHS)) {
        const page = await openReport(browser, html, width);
        const path = join(OUT, `${kind}-${name}.png`);
        await page.screenshot({ path, fullPage: true });
        await page.close();
        console.log(`wrote ${path}`);
      }
    }
  } finally {
    await browser.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
