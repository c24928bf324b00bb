import { isAbsolute, normalize, parse } from 'node:path';

/** The stem names a SQLite source (keys, ids, list, --db): /data/app.db is `app`. */
export const sqliteStem = (path: string): string => parse(path).name;

/**
 * SQLITE_PATHS: a comma list of absolute paths to SQLite database files. Relative paths are refused
 * (the daemon's working directory is no place to find an application's data), and so are two files
 * with the same stem: the stem is the source's name, so their backups would be mixed up.
 */
export function parseSqlitePaths(text: string): string[] {
  const paths = text.split(',').map((path) => path.trim()).filter(Boolean);
  if (paths.length === 0) throw new Error('expected one or more absolute paths of SQLite database files, comma-separated');
  for (const path of paths) {
    if (!isAbsolute(path)) throw new Error(`${path} is not an absolute path: name each file from the root, like /data/app.db`);
    if (path.endsWith('/')) throw new Error(`${path} names a folder: name the database file in it, like ${path}app.db`);
  }
  const normalized = paths.map((path) => normalize(path));
  const byStem = new Map<string, string>();
  for (const path of normalized) {
    const stem = sqliteStem(path);
    const other = byStem.get(stem);
    if (other !== undefined) throw new Error(`${other} and ${path} share the name "${stem}", which names their backups: rename one of the files (or link it under another name)`);
    byStem.set(stem, path);
  }
  return normalized;
}
