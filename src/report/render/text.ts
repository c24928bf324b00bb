import { table } from '../../format';
import type { Block, ReportDocument, Section } from './document';

/** The plain-text part: the same document as html.ts, for clients and people that prefer text. */
export function toText(doc: ReportDocument, footer: string): string {
  const parts = [doc.headline, doc.summary, ...doc.sections.map(section), `--\n${footer}`];
  return `${parts.join('\n\n')}\n`;
}

function section({ title, blocks }: Section): string {
  const body = blocks.map(block).join('\n\n');
  return title ? `${title.toUpperCase()}\n${'-'.repeat(title.length)}\n${body}` : body;
}

function block(item: Block): string {
  switch (item.type) {
    case 'paragraph':
      return item.text;
    case 'callout':
      return `!! ${item.title}\n   ${item.text}`;
    case 'facts': {
      const width = Math.max(...item.facts.map((fact) => fact.label.length));
      return item.facts.map((fact) => `${`${fact.label}:`.padEnd(width + 2)}${fact.value}`).join('\n');
    }
    case 'table': {
      const marked = item.rows.map((row) => (row.tone === 'fail' || row.tone === 'warn' ? row.cells.map((cell, i) => (i === 0 ? `! ${cell}` : cell)) : row.cells));
      const [head, ...lines] = table([item.head, ...marked]).split('\n');
      // Each row's detail on an indented line under it.
      const rows = lines.map((line, index) => (item.rows[index]!.detail === undefined ? line : `${line}\n    ${item.rows[index]!.detail}`));
      const rendered = [head, ...rows].join('\n');
      return item.note ? `${rendered}\n${item.note}` : rendered;
    }
    case 'code':
      return item.lines.map((line) => `    ${line}`).join('\n');
    case 'list':
      return item.items.map((text) => `  - ${text}`).join('\n');
    case 'bars': {
      const max = Math.max(1, ...item.bars.map((bar) => bar.value));
      const width = Math.max(...item.bars.map((bar) => bar.label.length));
      return item.bars.map((bar) => `${bar.label.padEnd(width)}  ${'#'.repeat(Math.round((bar.value / max) * 30)).padEnd(30)}  ${bar.display}`).join('\n');
    }
  }
}
