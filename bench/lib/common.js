'use strict';
/** The bench's settings (from the environment), its log, and small helpers the other modules share. */
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');

function positiveNumber(name, fallback) {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}=${text}: expected a positive number`);
  return value;
}

const SIZE_MB = positiveNumber('BENCH_SIZE_MB', 1000);
const RUNS = Math.max(1, Math.round(positiveNumber('BENCH_RUNS', 3)));
const SMALL_MB = Math.max(16, Math.round(SIZE_MB / 4));
const BUCKET = 'keepsake-bench';
const TARGETS = { localVsZstd: 1.05, gzipVsLocal: 3.5, peakRssMb: 120, rssGrowth: 1.2, restoreVsPgRestore: 0.65 };

const benchStart = Date.now();
const elapsed = () => `${((Date.now() - benchStart) / 1000).toFixed(0).padStart(4)}s`;
const log = (message) => process.stderr.write(`[bench ${elapsed()}] ${message}\n`);
const sq = (text) => `'${String(text).replace(/'/g, `'\\''`)}'`;
const mib = (bytes) => bytes / 1048576;
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

module.exports = { ROOT, SIZE_MB, RUNS, SMALL_MB, BUCKET, TARGETS, benchStart, log, sq, mib, median };
