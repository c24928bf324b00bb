/**
 * pg_dumpall --globals-only writes one statement per line: `CREATE ROLE name;` then
 * `ALTER ROLE name WITH ...;` for every role, `CREATE TABLESPACE ...`, then role settings and
 * memberships. Applied as is to a server that already has some of those roles, the CREATE fails;
 * applied as the role keepsake connects as, the ALTER would rewrite that role's own attributes
 * and password (on a throwaway cluster: its bootstrap superuser, `postgres`). So before psql runs:
 *  - `CREATE ROLE x;` is left out for roles that exist (their ALTER ROLE still sets what was backed up);
 *  - `ALTER ROLE <the connecting role> ...` is left out: our own login stays as it is;
 *  - on a scratch target, `CREATE TABLESPACE` is left out: its folder exists only on the source's host.
 */
export interface GlobalsApplyPlan {
  sql: string;
  /** What was left out, one sentence each, for the restore's notes. */
  skipped: string[];
}

const IDENTIFIER = String.raw`("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
const CREATE_ROLE = new RegExp(String.raw`^CREATE ROLE ${IDENTIFIER};$`);
const ALTER_ROLE = new RegExp(String.raw`^ALTER ROLE ${IDENTIFIER} `);
const CREATE_TABLESPACE = new RegExp(String.raw`^CREATE TABLESPACE ${IDENTIFIER} `);

/** `"Mixed Case"` -> `Mixed Case`; a bare identifier is folded to lower case, as the server does. */
export function unquoteIdentifier(word: string): string {
  return word.startsWith('"') ? word.slice(1, -1).replace(/""/g, '"') : word.toLowerCase();
}

export function planGlobalsApply(sql: string, target: { existingRoles: ReadonlySet<string>; self: string; skipTablespaces: boolean }): GlobalsApplyPlan {
  const skipped: string[] = [];
  const lines = sql.split('\n').filter((line) => {
    const created = CREATE_ROLE.exec(line);
    if (created && target.existingRoles.has(unquoteIdentifier(created[1]!))) return false;
    const altered = ALTER_ROLE.exec(line);
    if (altered && unquoteIdentifier(altered[1]!) === target.self) {
      skipped.push(`role ${target.self} (the role restoring) kept its own attributes and password`);
      return false;
    }
    const tablespace = CREATE_TABLESPACE.exec(line);
    if (tablespace && target.skipTablespaces) {
      skipped.push(`tablespace ${unquoteIdentifier(tablespace[1]!)} not created: its folder exists only on the source's host`);
      return false;
    }
    return true;
  });
  return { sql: lines.join('\n'), skipped };
}
