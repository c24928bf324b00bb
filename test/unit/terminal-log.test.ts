import { TerminalLog, stackWithCauses } from '../../src/cli/terminal-log';
import { UnavailableError } from '../../src/errors';

/** What pino hands a destination: one JSON record per write. */
const record = (level: number, msg: string, fields: Record<string, unknown> = {}) => JSON.stringify({ level, time: '2026-01-01T00:00:00.000Z', app: 'keepsake', msg, ...fields });

function terminal(verbose = false) {
  const lines: string[] = [];
  return { lines, log: new TerminalLog((line) => lines.push(line), () => verbose) };
}

describe('TerminalLog (a manual command\'s stderr)', () => {
  const cause = new Error('connect ECONNREFUSED 127.0.0.1:1');
  const failure = new UnavailableError('Cannot connect to PostgreSQL: connection refused', { cause });
  const loggedFailure = { err: { type: 'UnavailableError', message: `${failure.message}: ${cause.message}`, stack: failure.stack } };

  it('shows no info lines, and a warning at once as one line', () => {
    const { lines, log } = terminal();
    log.write(record(30, 'backup started', { key: 'manual/x' }));
    log.write(record(40, 'report not sent now', { error: 'ECONNREFUSED' }));
    expect(lines).toEqual(['keepsake: warning: report not sent now: ECONNREFUSED']);
  });

  it('leaves the error the command fails with to the final line, but shows errors it survived', () => {
    const { lines, log } = terminal();
    log.write(record(50, 'backup failed', loggedFailure));
    log.write(record(50, 'could not store the restore test result', { err: { message: 'EACCES: permission denied' } }));
    expect(lines).toEqual([]);
    log.finish(failure);
    expect(lines).toEqual(['keepsake: could not store the restore test result: EACCES: permission denied']);
  });

  it('shows a logged error when the command then succeeds', () => {
    const { lines, log } = terminal();
    log.write(record(50, 'backup failed', loggedFailure));
    log.finish();
    expect(lines).toEqual([`keepsake: backup failed: ${failure.message}: ${cause.message}`]);
  });

  it('with --verbose, shows info lines with their fields and errors with their stacks', () => {
    const { lines, log } = terminal(true);
    log.write(record(30, 'backup started', { key: 'manual/x', targets: ['local'] }));
    log.write(record(50, 'could not store', { err: { message: 'EACCES', stack: 'Error: EACCES\n    at here' } }));
    log.finish();
    expect(lines).toEqual(['keepsake: backup started (key=manual/x)', 'Error: EACCES\n    at here\nkeepsake: could not store: EACCES']);
  });

  it('prints an error\'s stack and its causes\' for --verbose', () => {
    expect(stackWithCauses(failure)).toMatch(/^UnavailableError: Cannot connect to PostgreSQL: connection refused\n {4}at [^]*\ncaused by: Error: connect ECONNREFUSED 127\.0\.0\.1:1\n {4}at /);
  });
});
