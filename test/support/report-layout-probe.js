'use strict';
/* global document, NodeFilter, window */
/**
 * Runs inside the page (playwright's page.evaluate serializes it): finds every word the report
 * must not break and measures, with Range.getClientRects(), on how many lines it sits. The words:
 * each given token (check names, ids, hashes, the sidecar, commands), every whitespace-free run
 * holding a digit (numbers, sizes, times, ids), and every line of a code block. A word inside a
 * horizontally scrolling box sits on one line too, so one rule covers both.
 */
function findBrokenWords(tokens) {
  const broken = [];
  const linesOf = (node, start, end) => {
    const range = document.createRange();
    range.setStart(node, start);
    range.setEnd(node, end);
    const rects = [...range.getClientRects()].filter((rect) => rect.width > 0 && rect.height > 0);
    if (!rects.length) return 0; // not displayed (the inbox preview text)
    const tops = rects.map((rect) => rect.top);
    const height = Math.min(...rects.map((rect) => rect.height));
    return Math.max(...tops) - Math.min(...tops) >= height / 2 ? 2 : 1;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.data;
    const spans = [];
    for (const match of text.matchAll(/\S+/g)) if (/\d/.test(match[0])) spans.push([match.index, match.index + match[0].length]);
    for (const token of tokens) {
      for (let at = text.indexOf(token); at >= 0; at = text.indexOf(token, at + 1)) spans.push([at, at + token.length]);
    }
    if (node.parentElement.closest('pre')) {
      let at = 0;
      for (const line of text.split('\n')) {
        if (line.trim()) spans.push([at, at + line.length]);
        at += line.length + 1;
      }
    }
    for (const [start, end] of spans) {
      if (linesOf(node, start, end) > 1) broken.push(`${JSON.stringify(text.slice(start, end))} in <${node.parentElement.tagName.toLowerCase()}>`);
    }
  }
  return [...new Set(broken)];
}

/** How far the page is wider than the window: content that neither fits nor scrolls in its own box. */
function horizontalOverflow() {
  return document.documentElement.scrollWidth - window.innerWidth;
}

module.exports = { findBrokenWords, horizontalOverflow };
