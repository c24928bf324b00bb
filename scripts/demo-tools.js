'use strict';
/** What `npm run demo` needs from the system, checked before it starts anything. */
const { accessSync, constants } = require('node:fs');
const { delimiter, dirname, join } = require('node:path');
const { findPgBinaries } = require('../dist/postgres/binaries');

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The system tools the demo runs, as keepsake finds them: the PostgreSQL server for its throwaway
 * clusters (initdb, postgres), the dump and restore tools, and zstd. A fresh machine has only Node.
 */
async function missingTools(pgBinDir) {
  const missing = [];
  const [initdb] = await findPgBinaries('initdb', { pgBinDir });
  if (!initdb) missing.push('initdb', 'postgres');
  else if (!executable(join(dirname(initdb.path), 'postgres'))) missing.push('postgres');
  for (const tool of ['pg_dump', 'pg_restore']) if (!(await findPgBinaries(tool, { pgBinDir })).length) missing.push(tool);
  const path = (process.env.PATH || '').split(delimiter).filter(Boolean);
  if (!path.some((dir) => executable(join(dir, 'zstd')))) missing.push('zstd');
  return missing;
}

module.exports = { missingTools };
