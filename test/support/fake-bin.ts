import { chmod, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findPgBinaries } from '../../src/postgres/binaries';

/**
 * A PG_BIN_DIR whose tools are the real ones, except those given a wrapper script. Wrappers see
 * the real tool as "$REAL" and must pass `--version` through so keepsake's version check works.
 * This is how tests kill pg_dump half way or record its argv: real processes, no mocks.
 */
export async function makeBinDir(wrappers: Record<string, string>): Promise<string> {
  const [newest] = await findPgBinaries('pg_dump');
  if (!newest) throw new Error('no pg_dump installed');
  const realDir = dirname(newest.path);
  const dir = await mkdtemp(join(tmpdir(), 'keepsake-bin-'));
  await chmod(dir, 0o755); // throwaway clusters run these as the postgres user
  for (const tool of ['pg_dump', 'pg_restore', 'psql', 'initdb', 'postgres', 'pg_basebackup']) {
    const script = wrappers[tool];
    if (!script) {
      await symlink(join(realDir, tool), join(dir, tool));
      continue;
    }
    const body = `#!/bin/bash\nREAL=${join(realDir, tool)}\ncase "$1" in --version|-V) exec "$REAL" "$@";; esac\n${script}\n`;
    await writeFile(join(dir, tool), body);
    await chmod(join(dir, tool), 0o755);
  }
  return dir;
}
