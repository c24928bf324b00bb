import type { Browser, Page } from 'playwright-core';

export const CHROMIUM: string;
export const WIDTHS: { phone: number; desktop: number };
export function launchReportBrowser(): Promise<Browser>;
export function openReport(browser: Browser, html: string, width: number): Promise<Page>;
