import {
  coerceError, ConfigError, EXIT_CODES, EXIT_CODES_HELP, exitCodeFor, InterruptedError, KeepsakeError, NotFoundError, rootKeepsakeError,
  StorageError, UnavailableError, UsageError, VerifyError,
} from '../../src/errors';

describe('exitCodeFor', () => {
  it.each<[string, unknown, number]>([
    ['ConfigError', new ConfigError(['X=1: bad']), 78],
    ['UsageError', new UsageError('bad flag'), 64],
    ['VerifyError', new VerifyError('sha256 mismatch'), 65],
    ['NotFoundError', new NotFoundError('no backup'), 66],
    ['UnavailableError', new UnavailableError('no pg_dump'), 69],
    ['StorageError', new StorageError('disk full'), 74],
    ['InterruptedError', new InterruptedError('SIGTERM'), 130],
    ['a plain KeepsakeError', new KeepsakeError('failed'), 1],
    ['a KeepsakeError of a given kind', new KeepsakeError('gone', 'ioError'), 74],
    ['a plain Error', new Error('boom'), 1],
    ['a thrown string', 'boom', 1],
    ['undefined', undefined, 1],
  ])('maps %s to exit code %i', (_what, error, code) => {
    expect(exitCodeFor(error)).toBe(code);
  });

  it('does not look into causes: that is rootKeepsakeError\'s job', () => {
    expect(exitCodeFor(new Error('wrapped', { cause: new StorageError('disk full') }))).toBe(1);
  });

  it('documents every exit code in the help text', () => {
    for (const code of Object.values(EXIT_CODES)) expect(EXIT_CODES_HELP).toMatch(new RegExp(`^  ${code} +\\S`, 'm'));
  });
});

describe('rootKeepsakeError', () => {
  it('returns the error itself when it is a KeepsakeError', () => {
    const error = new VerifyError('mismatch');
    expect(rootKeepsakeError(error)).toBe(error);
  });

  it('finds a KeepsakeError through a chain of plain causes', () => {
    const storage = new StorageError('disk full');
    const error = new Error('backup failed', { cause: new Error('upload failed', { cause: storage }) });
    expect(rootKeepsakeError(error)).toBe(storage);
    expect(exitCodeFor(rootKeepsakeError(error))).toBe(74);
  });

  it('returns the outermost KeepsakeError when several are chained', () => {
    const outer = new UnavailableError('database unreachable', { cause: new StorageError('inner') });
    expect(rootKeepsakeError(new Error('wrap', { cause: outer }))).toBe(outer);
  });

  it.each<[string, unknown]>([
    ['a plain error', new Error('boom')],
    ['a chain of plain errors', new Error('a', { cause: new Error('b', { cause: 'c' }) })],
    ['a string', 'boom'],
    ['undefined', undefined],
    ['null', null],
  ])('returns undefined for %s', (_what, error) => {
    expect(rootKeepsakeError(error)).toBeUndefined();
  });

  it('stops on a cause cycle', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(rootKeepsakeError(a)).toBeUndefined();
  });
});

describe('error classes', () => {
  it('name themselves after their class and keep the cause', () => {
    const cause = new Error('ECONNREFUSED');
    const error = new UnavailableError('database unreachable', { cause });
    expect(error.name).toBe('UnavailableError');
    expect(error.cause).toBe(cause);
    expect(error).toBeInstanceOf(KeepsakeError);
  });

  it.each([
    [['A=1: bad'], 'Invalid configuration (1 problem):\n  - A=1: bad'],
    [['A=1: bad', 'B=2: worse'], 'Invalid configuration (2 problems):\n  - A=1: bad\n  - B=2: worse'],
  ])('ConfigError lists each problem on its own line (%j)', (problems, message) => {
    const error = new ConfigError(problems);
    expect(error.message).toBe(message);
    expect(error.problems).toEqual(problems);
  });
});

describe('coerceError', () => {
  it('returns an Error unchanged', () => {
    const error = new StorageError('x');
    expect(coerceError(error)).toBe(error);
  });

  it.each<[unknown, string]>([
    ['plain text', 'plain text'],
    [{ code: 'E' }, '{"code":"E"}'],
    [42, '42'],
  ])('wraps %j in an Error with message %j', (value, message) => {
    const error = coerceError(value);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe(message);
  });
});
