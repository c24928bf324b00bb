import type { Block, ReportDocument, Section, Tone } from './document';

/**
 * The one escape function. Every piece of text in a report goes through it on its way into the
 * HTML (database names, hosts, errors and stderr are all attacker- or accident-controlled).
 * Quotes are escaped too, so the same function is safe inside attribute values.
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ENTITIES[char]!);
}
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/*
 * Dark mode without a <style> block (many clients strip it): the body's background and text
 * colors are left to the client, which flips them in dark mode; every element that sets a
 * background also sets its own text color, and the few free-standing colors are mid-tones that
 * read on white and on black alike.
 */
const FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
const MONO = "ui-monospace,SFMono-Regular,Menlo,Consolas,'Liberation Mono',monospace";
const MUTED = '#8a8f98';
const RULE = '#8a8f9840';
const TONES: Record<Tone, { solid: string; soft: string; ink: string }> = {
  ok: { solid: '#15803d', soft: '#dcfce7', ink: '#14532d' },
  warn: { solid: '#b45309', soft: '#fef3c7', ink: '#78350f' },
  fail: { solid: '#b91c1c', soft: '#fee2e2', ink: '#7f1d1d' },
  info: { solid: '#1d4ed8', soft: '#dbeafe', ink: '#1e3a8a' },
};

/** Sideways scrolling for what must stay on one line (hashes, paths, commands) but may be wider than a phone. */
const SCROLL = 'overflow-x:auto;white-space:nowrap;';
const CODE = `font-family:${MONO};font-size:13px;background:#8a8f9826;padding:0 3px;border-radius:3px;`;

/**
 * Prose with `code`: escaped, and each backticked span set as code that never wraps inside; a span
 * wider than the line gets a line of its own that scrolls (inline-block, at most the line's width).
 */
function inline(text: string): string {
  return text
    .split(/`([^`\n]+)`/)
    .map((part, index) => (index % 2 ? `<code style="${CODE}${SCROLL}display:inline-block;max-width:100%;box-sizing:border-box;vertical-align:bottom;">${escapeHtml(part)}</code>` : words(part)))
    .join('');
}

/**
 * Escaped text whose hyphenated words (hosts like db-prod, check names like last-run:daily) do not
 * break at the hyphen, as browsers otherwise may; long ones still may, rather than widen the mail.
 */
function words(text: string): string {
  return escapeHtml(text).replace(/[^\s-]+(?:-[^\s-]+)+/g, (word) => (word.length <= 32 ? `<span style="white-space:nowrap;">${word}</span>` : word));
}

/**
 * A whole email: table layout, inline styles, at most 600px wide and fluid below that. Fixed table
 * layout, so a long line inside a scrolling box scrolls there instead of widening the whole mail.
 */
export function toHtml(doc: ReportDocument, footer: string): string {
  const tone = TONES[doc.tone];
  const sections = doc.sections.map(section).join('');
  const sidecar = doc.sidecar ? `<div style="font-size:13px;padding-bottom:2px;">${escapeHtml(doc.sidecar)}</div>` : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="color-scheme" content="light dark"><meta name="supported-color-schemes" content="light dark">
<title>${escapeHtml(doc.subject)}</title></head>
<body style="margin:0;padding:0;">
<div style="display:none;max-height:0;overflow:hidden;">${escapeHtml(doc.summary)}</div>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="table-layout:fixed;"><tr><td align="center" style="padding:12px 8px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:600px;width:100%;table-layout:fixed;border-collapse:collapse;font-family:${FONT};font-size:15px;line-height:1.5;">
<tr><td style="background:${tone.solid};color:#ffffff;padding:16px 20px;border-radius:6px 6px 0 0;">${sidecar}
<div style="font-size:19px;font-weight:bold;line-height:1.3;">${words(doc.headline)}</div>
<div style="font-size:14px;padding-top:4px;">${words(doc.summary)}</div></td></tr>
${sections}
<tr><td style="padding:16px 20px;font-size:12px;color:${MUTED};border-top:1px solid ${RULE};">${escapeHtml(footer)}</td></tr>
</table></td></tr></table>
</body></html>
`;
}

function section({ title, blocks }: Section): string {
  const heading = title ? `<div style="font-size:16px;font-weight:bold;padding-bottom:6px;">${escapeHtml(title)}</div>` : '';
  return `<tr><td style="padding:14px 20px 4px 20px;">${heading}${blocks.map(block).join('')}</td></tr>\n`;
}

function block(item: Block): string {
  switch (item.type) {
    case 'paragraph':
      return `<p style="margin:0 0 10px 0;">${inline(item.text)}</p>`;
    case 'callout': {
      const tone = TONES[item.tone];
      return `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="margin:0 0 10px 0;table-layout:fixed;"><tr><td style="background:${tone.soft};color:${tone.ink};border-left:4px solid ${tone.solid};padding:10px 12px;overflow-wrap:anywhere;"><div style="font-weight:bold;">${escapeHtml(item.title)}</div><div>${inline(item.text)}</div></td></tr></table>`;
    }
    case 'facts':
      return `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;table-layout:fixed;margin:0 0 10px 0;">${item.facts
        .map(
          (fact) =>
            `<tr><td valign="top" style="padding:4px 10px 4px 0;color:${MUTED};width:30%;border-bottom:1px solid ${RULE};">${escapeHtml(fact.label)}</td><td valign="top" style="padding:4px 0;border-bottom:1px solid ${RULE};">${fact.mono ? `<div style="font-family:${MONO};font-size:13px;${SCROLL}">${escapeHtml(fact.value)}</div>` : inline(fact.value)}</td></tr>`,
        )
        .join('')}</table>`;
    case 'table':
      return dataTable(item);
    case 'code':
      // Never wrapped: a command or a hash broken in two cannot be copied; a phone scrolls it sideways.
      return `<pre style="margin:0 0 10px 0;padding:10px 12px;background:#1f2937;color:#e5e7eb;border-radius:4px;font-family:${MONO};font-size:12px;line-height:1.45;white-space:pre;overflow-x:auto;">${escapeHtml(item.lines.join('\n'))}</pre>`;
    case 'list':
      return `<ul style="margin:0 0 10px 0;padding-left:20px;">${item.items.map((text) => `<li style="margin:0 0 4px 0;">${inline(text)}</li>`).join('')}</ul>`;
    case 'bars':
      return bars(item.bars);
  }
}

/**
 * Per-cell styles are kept short: a restore test can list hundreds of rows within the size budget.
 * Keys (the first column by default: tier, check, backup) and numbers never wrap; the other columns
 * take the rest of the width and wrap between words (inside one only when it cannot fit at all).
 * A row's detail goes on a line of its own across the table, where a phone has room for it.
 */
function dataTable({ head, rows, numeric = [], nowrap = [0], note }: Extract<Block, { type: 'table' }>): string {
  // Left is the default: saying so on every cell of a long table costs bytes for nothing.
  const align = (column: number) => (numeric.includes(column) ? ' align="right"' : '');
  // Numbers as narrow as they are (width 1% shrinks a column to its content): the text columns get the rest.
  const th = head
    .map((cell, column) => `<th align="${numeric.includes(column) ? 'right' : 'left'}" style="padding:4px 6px;font-size:12px;color:${MUTED};border-bottom:1px solid ${RULE};white-space:nowrap;${numeric.includes(column) ? 'width:1%;' : ''}">${escapeHtml(cell)}</th>`)
    .join('');
  const line = `border-bottom:1px solid ${RULE};`;
  const body = rows
    .map(({ cells, tone, detail, detailMono }) => {
      // A mono detail (a path) scrolls; width 0 keeps it from widening the table, min-width fills the row.
      const color = tone && tone !== 'info' ? ` style="color:${TONES[tone].solid};font-weight:bold;"` : '';
      const under = detail === undefined ? '' : `<tr><td colspan="${cells.length}" style="padding:0 6px 5px 6px;font-size:13px;${line}">${detailMono ? `<div style="font-family:${MONO};${SCROLL}width:0;min-width:100%;">${escapeHtml(detail)}</div>` : inline(detail)}</td></tr>`;
      const cellLine = detail === undefined ? line : '';
      return `<tr${color}>${cells.map((cell, column) => `<td${align(column)} style="padding:3px 6px;${cellLine}${nowrap.includes(column) || numeric.includes(column) ? 'white-space:nowrap;' : ''}">${inline(cell)}</td>`).join('')}</tr>${under}`;
    })
    .join('');
  const footnote = note ? `<div style="font-size:12px;color:${MUTED};padding-top:4px;">${escapeHtml(note)}</div>` : '';
  return `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;font-size:13px;margin:0 0 10px 0;overflow-wrap:anywhere;"><tr>${th}</tr>${body}</table>${footnote}`;
}

/** A horizontal bar chart made of table cells with a background: no images, works in every client. */
function bars(items: { label: string; value: number; display: string }[]): string {
  const max = Math.max(1, ...items.map((bar) => bar.value));
  const rows = items
    .map((bar) => {
      const percent = bar.value > 0 ? Math.max(1, Math.round((bar.value / max) * 100)) : 0;
      const fill = percent > 0 ? `<td width="${percent}%" style="background:${TONES.info.solid};height:14px;font-size:1px;line-height:1px;">&nbsp;</td>` : '';
      const rest = percent < 100 ? `<td width="${100 - percent}%" style="font-size:1px;line-height:1px;">&nbsp;</td>` : '';
      return `<tr><td style="padding:3px 8px 3px 0;font-size:12px;color:${MUTED};white-space:nowrap;width:1%;">${escapeHtml(bar.label)}</td><td style="padding:3px 0;"><table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr>${fill}${rest}</tr></table></td><td align="right" style="padding:3px 0 3px 8px;font-size:12px;white-space:nowrap;width:1%;">${escapeHtml(bar.display)}</td></tr>`;
    })
    .join('');
  return `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;margin:0 0 10px 0;">${rows}</table>`;
}
