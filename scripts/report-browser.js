'use strict';
/**
 * Debian's Chromium (apt-get install chromium; scripts/install-system-deps.sh installs it with the
 * development tools), driven by playwright-core, which downloads no browser of its own. The report
 * layout test (test/unit/report-render-layout.test.ts) and the screenshots in docs/report-screenshots
 * (scripts/report-screenshots.js) both open the reports through this one launcher.
 */
const { existsSync } = require('node:fs');
const { chromium } = require('playwright-core');

const CHROMIUM = '/usr/bin/chromium';

/** Phone and desktop widths the reports are checked and photographed at. */
const WIDTHS = { phone: 400, desktop: 800 };

/**
 * No sandbox (root in a container has none to give), and none of the background traffic a fresh
 * profile starts (component updates, sync, field trials): on a machine with no network those
 * connections are refused and only slow the start. playwright gives each launch an empty profile.
 */
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function launchReportBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run \`bash scripts/install-system-deps.sh\` (it installs Debian's chromium with the development tools)`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}

/** A page of the given width showing one report's HTML, as a mail client would (no network, no scripts of its own). */
async function openReport(browser, html, width) {
  const page = await browser.newPage({ viewport: { width, height: 900 } });
  await page.route('**/*', (route) => route.abort());
  await page.setContent(html, { waitUntil: 'load' });
  return page;
}

module.exports = { CHROMIUM, WIDTHS, launchReportBrowser, openReport };
