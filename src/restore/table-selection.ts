/**
 * Which entries of an archive restore chosen tables, from `pg_restore --list --verbose` (each entry
 * with the ids it depends on, as pg_dump recorded them from pg_depend). `pg_restore -t` restores a
 * table alone, without the enum types, functions and owned sequences it needs; a list file filtered
 * here (`pg_restore --use-list`) restores the table with everything it needs and everything that
 * belongs to it (data, sequences and their values, defaults, constraints, indexes, triggers), and
 * leaves out whatever would need a table not chosen: a foreign key to such a table is reported.
 */

export interface TableName {
  schema: string;
  name: string;
}

export interface TableSelection {
  /** The list file for `pg_restore --use-list`: the chosen entries, in the archive's order. */
  listFile: string;
  /** What came along with the tables (types, functions, sequences, schemas, extensions), as the archive names them. */
  broughtAlong: string[];
  /** Entries of the chosen tables that were not restored, with the tables they need (a foreign key to a table not chosen). */
  notRestored: { entry: string; needs: string[] }[];
  /** The sequences restored (owned by the tables, or used by their defaults). */
  sequences: TableName[];
}

interface Entry {
  id: string;
  line: string;
  kind: string;
  /** The entry's text after the kind: "shop orders postgres". */
  rest: string;
  deps: string[];
}

/** Entry kinds of more than one word, longest first; any other kind is the first word. */
const LONG_KINDS = ['MATERIALIZED VIEW DATA', 'SEQUENCE OWNED BY', 'MATERIALIZED VIEW', 'PUBLICATION TABLE', 'FK CONSTRAINT', 'SEQUENCE SET', 'FOREIGN TABLE', 'INDEX ATTACH', 'TABLE ATTACH', 'TABLE DATA', 'DEFAULT ACL'];
/** Entries that make a relation of their own: never brought along unless chosen. */
const RELATIONS = new Set(['TABLE', 'VIEW', 'MATERIALIZED VIEW', 'MATERIALIZED VIEW DATA', 'FOREIGN TABLE']);
/** Session settings every restore starts with. */
const SETTINGS = new Set(['ENCODING', 'STDSTRINGS', 'SEARCHPATH']);
const SHOWN = new Set(['SCHEMA', 'EXTENSION', 'TYPE', 'DOMAIN', 'FUNCTION', 'PROCEDURE', 'SEQUENCE', 'COLLATION']);

export function parseListing(listing: string): Entry[] {
  const entries: Entry[] = [];
  for (const line of listing.split('\n')) {
    const depends = /^;\s*depends on:(.*)$/.exec(line);
    if (depends && entries.length) entries[entries.length - 1]!.deps.push(...depends[1]!.trim().split(/\s+/).filter(Boolean));
    const match = /^(\d+); \d+ \d+ (.*)$/.exec(line);
    if (!match) continue;
    const text = match[2]!;
    const kind = LONG_KINDS.find((long) => text.startsWith(`${long} `)) ?? text.split(' ')[0]!;
    entries.push({ id: match[1]!, line, kind, rest: text.slice(kind.length + 1), deps: [] });
  }
  return entries;
}

/** "shop orders postgres" names table shop.orders: the longest known table name that fits (names may hold spaces). */
function tableOf(rest: string, tables: readonly TableName[]): TableName | undefined {
  return tables.filter((table) => rest.startsWith(`${table.schema} ${table.name} `) || rest === `${table.schema} ${table.name}`).sort((a, b) => b.name.length - a.name.length)[0];
}

const label = (entry: Entry) => `${entry.kind} ${entry.rest.replace(/ \S+$/, '')}`;
const qualified = (table: TableName) => `${table.schema}.${table.name}`;

/**
 * Selects the entries restoring `chosen` (each must be in `known`, the backup's tables). Throws when
 * the archive has no definition for one of them.
 */
export function selectTables(listing: string, chosen: readonly TableName[], known: readonly TableName[]): TableSelection {
  const entries = parseListing(listing);
  const byId = new Map(entries.map((entry) => [entry.id, entry]));
  const tableEntry = new Map<string, TableName>();
  for (const entry of entries) {
    const table = entry.kind === 'TABLE' ? tableOf(entry.rest, known) : undefined;
    if (table) tableEntry.set(entry.id, table);
  }
  const chosenIds = new Set([...tableEntry].filter(([, table]) => chosen.some((c) => qualified(c) === qualified(table))).map(([id]) => id));
  const missing = chosen.filter((table) => ![...chosenIds].some((id) => qualified(tableEntry.get(id)!) === qualified(table)));
  if (missing.length) throw new Error(`the archive holds no definition of ${missing.map(qualified).join(', ')}`);

  /** Everything an entry needs, itself included. */
  const needs = (id: string): Set<string> => {
    const seen = new Set<string>();
    const stack = [id];
    while (stack.length) {
      const next = stack.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...(byId.get(next)?.deps ?? []));
    }
    return seen;
  };
  const included = new Set<string>();
  for (const id of chosenIds) for (const need of needs(id)) included.add(need);
  // What hangs off the chosen tables (data, sequences, defaults, constraints), and what hangs off those.
  const anchors = new Set(chosenIds);
  const notRestored = new Map<string, string[]>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const entry of entries) {
      if (included.has(entry.id) || notRestored.has(entry.id) || !entry.deps.some((dep) => anchors.has(dep))) continue;
      if (RELATIONS.has(entry.kind)) continue; // a view, a partition, another table: only when chosen
      const wanted = needs(entry.id);
      const others = [...wanted].filter((id) => (tableEntry.has(id) || RELATIONS.has(byId.get(id)?.kind ?? '')) && !chosenIds.has(id));
      if (others.length) {
        notRestored.set(entry.id, others.map((id) => (tableEntry.has(id) ? qualified(tableEntry.get(id)!) : label(byId.get(id)!))));
        continue;
      }
      for (const id of wanted) included.add(id);
      anchors.add(entry.id);
      changed = true;
    }
  }
  const picked = entries.filter((entry) => included.has(entry.id) || SETTINGS.has(entry.kind));
  const chosenTables = [...chosenIds].map((id) => tableEntry.get(id)!);
  // Report what belongs to a chosen table ("FK CONSTRAINT shop orders orders_customer_id_fkey"), not another table's foreign key into it.
  const ownReport = entries.filter((entry) => notRestored.has(entry.id) && chosenTables.some((table) => entry.rest.startsWith(`${table.schema} ${table.name} `)));
  return {
    listFile: `${picked.map((entry) => entry.line).join('\n')}\n`,
    broughtAlong: picked.filter((entry) => SHOWN.has(entry.kind)).map(label),
    notRestored: ownReport.map((entry) => ({ entry: label(entry), needs: notRestored.get(entry.id)! })),
    sequences: picked.filter((entry) => entry.kind === 'SEQUENCE').map((entry) => {
      const [schema, ...name] = entry.rest.replace(/ \S+$/, '').split(' ');
      return { schema: schema!, name: name.join(' ') };
    }),
  };
}
