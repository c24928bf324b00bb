import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '../../src/log';
import { fileMode, makeWorkspace } from '../support/workspace';

/** Logs name hosts, databases and errors: only keepsake and its group may read them. */
describe('log files', () => {
  let workspace: Awaited<ReturnType<typeof makeWorkspace>>;
  beforeEach(async () => {
    workspace = await makeWorkspace();
  });
  afterEach(async () => workspace.remove());

  const logOneLine = async (logDir: string) => {
    const log = createLogger({ logLevel: 'info', logDir }, 'stderr');
    log.info('one line');
    log.flush();
    // The file is opened and written asynchronously: wait for the line to land.
    const deadline = Date.now() + 5_000;
    while (!(await readFile(join(logDir, 'keepsake.log'), 'utf8').catch(() => '')).includes('one line')) {
      if (Date.now() > deadline) throw new Error('the log line never reached keepsake.log');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it('creates LOG_DIR 0750 and keepsake.log 0640, not world-readable', async () => {
    const logDir = join(workspace.root, 'logs');
    await logOneLine(logDir);
    expect((await fileMode(logDir)).toString(8)).toBe('750');
    expect((await fileMode(join(logDir, 'keepsake.log'))).toString(8)).toBe('640');
  });

  it('tightens a keepsake.log an earlier version left world-readable, and leaves an existing folder as it is', async () => {
    const logDir = join(workspace.root, 'existing');
    await mkdir(logDir);
    await chmod(logDir, 0o755);
    await writeFile(join(logDir, 'keepsake.log'), '', { mode: 0o644 });
    await logOneLine(logDir);
    expect((await fileMode(join(logDir, 'keepsake.log'))).toString(8)).toBe('640');
    expect((await fileMode(logDir)).toString(8)).toBe('755');
  });
});
