/**
 * A report is built once as a small document of blocks holding plain, unescaped text; html.ts
 * and text.ts each serialize the same document. So the email's two parts always carry the same
 * facts, and escaping happens in exactly one place (html.ts), never in the templates.
 * In prose (paragraphs, lists, callouts, table cells and details) `backticks` mark code: a command
 * or a setting, set as code in the HTML and kept as is in the text part.
 */

export type Tone = 'ok' | 'warn' | 'fail' | 'info';

export interface Fact {
  label: string;
  value: string;
  /** Hashes, ids and paths: monospace, on one line that scrolls sideways on a narrow screen. */
  mono?: boolean;
}

export interface TableRow {
  cells: string[];
  tone?: Tone;
  /** A line under the row, across the whole table: why, or what it means (a phone has no room for a column of it). */
  detail?: string;
  /** The detail is a path or key: monospace, on one line that scrolls sideways. */
  detailMono?: boolean;
}

export type Block =
  | { type: 'paragraph'; text: string }
  | { type: 'callout'; tone: Tone; title: string; text: string }
  | { type: 'facts'; facts: Fact[] }
  /**
   * The numeric columns and the `nowrap` ones (default: column 0, a short key) never wrap; the
   * others take the rest of the width and wrap between words, inside one only where it cannot fit.
   */
  | { type: 'table'; head: string[]; rows: TableRow[]; numeric?: number[]; nowrap?: number[]; note?: string }
  | { type: 'code'; lines: string[] }
  | { type: 'list'; items: string[] }
  | { type: 'bars'; bars: { label: string; value: number; display: string }[] };

export interface Section {
  title?: string;
  blocks: Block[];
}

export interface ReportDocument {
  subject: string;
  /** Which sidecar ("app@db-prod:5432"), shown atop the banner: several may mail one inbox. */
  sidecar?: string;
  tone: Tone;
  /** The banner: what happened, in a few words. */
  headline: string;
  /** One sentence under the banner; also the inbox preview text. */
  summary: string;
  sections: Section[];
}

/** Long lists would push a report past Gmail's 100 KB clip: show the first `max` and say how many more. */
export function capRows<T>(rows: T[], max: number, what: string): { rows: T[]; note?: string } {
  if (rows.length <= max) return { rows };
  return { rows: rows.slice(0, max), note: `… and ${rows.length - max} more ${what} not shown.` };
}

/** Drops facts whose value is unknown, so templates can list every optional fact inline. */
export function facts(...candidates: (Fact | false | undefined)[]): Block {
  return { type: 'facts', facts: candidates.filter((fact): fact is Fact => Boolean(fact)) };
}

export const plural = (count: number, word: string, many = `${word}s`) => `${count} ${count === 1 ? word : many}`;
