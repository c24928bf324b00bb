import { parseBoolean, parseDuration, parseSize, splitWords } from '../../src/config/parse';

describe('parseSize', () => {
  it.each([
    ['1048576', 1048576],
    ['0', 0],
    ['512b', 512],
    ['512B', 512],
    ['1k', 1024],
    ['1K', 1024],
    ['1kb', 1000],
    ['1KiB', 1024],
    ['16M', 16 * 1024 ** 2],
    ['8MiB', 8 * 1024 ** 2],
    ['5MB', 5_000_000],
    ['5 MB', 5_000_000],
    ['  8mib  ', 8 * 1024 ** 2],
    ['1G', 1024 ** 3],
    ['2GB', 2_000_000_000],
    ['1GiB', 1024 ** 3],
    ['1.5MiB', 1.5 * 1024 ** 2],
    ['0.5k', 512],
  ])('reads %j as %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it('treats bare K/M/G as binary units and KB/MB/GB as decimal ones', () => {
    expect(parseSize('1M')).toBe(parseSize('1MiB'));
    expect(parseSize('1MB')).toBe(1_000_000);
    expect(parseSize('1G')).toBeGreaterThan(parseSize('1GB'));
  });

  it('rounds fractional sizes to whole bytes', () => {
    expect(parseSize('1.0001k')).toBe(1024);
  });

  it.each(['', 'abc', 'MiB', '-5M', '5TB', '5 M B', '1e6', '5,000', '8 mebibytes'])(
    'rejects %j with a message showing the expected format',
    (text) => {
      expect(() => parseSize(text)).toThrow('expected a size like 8MiB, 16M or 1048576');
    },
  );
});

describe('parseBoolean', () => {
  it.each(['true', 'TRUE', '1', 'yes', 'Yes', 'on', ' on '])('reads %j as true', (text) => {
    expect(parseBoolean(text)).toBe(true);
  });

  it.each(['false', 'False', '0', 'no', 'off', ' OFF '])('reads %j as false', (text) => {
    expect(parseBoolean(text)).toBe(false);
  });

  it.each(['', 'maybe', 'y', 'n', '2', 'enabled'])('rejects %j with "expected true or false"', (text) => {
    expect(() => parseBoolean(text)).toThrow('expected true or false');
  });
});

describe('splitWords', () => {
  it.each<[string, string[]]>([
    ['', []],
    ['   ', []],
    ['--no-owner', ['--no-owner']],
    ['--no-owner  --no-acl', ['--no-owner', '--no-acl']],
    ['\t-n public\n-x ', ['-n', 'public', '-x']],
    ['-T "audit log"', ['-T', 'audit log']],
    ["-T 'audit log'", ['-T', 'audit log']],
    ['--exclude-table="my table"', ['--exclude-table=my table']],
    ['-T a" b "c', ['-T', 'a b c']],
    ['-T audit\\ log', ['-T', 'audit log']],
    ['"say \\"hi\\""', ['say "hi"']],
    ["'no \\escape in single quotes'", ['no \\escape in single quotes']],
    ['"it\'s"', ["it's"]],
    ["'say \"hi\"'", ['say "hi"']],
    ['"" \'\'', ['', '']],
    ['-T $HOME', ['-T', '$HOME']],
    ['-T *', ['-T', '*']],
    ['trailing\\', ['trailing\\']],
  ])('splits %j into %j', (text, words) => {
    expect(splitWords(text)).toEqual(words);
  });

  it.each([
    ['-T "audit log', 'unterminated " quote'],
    ["-T 'audit log", "unterminated ' quote"],
    ['"escaped end\\"', 'unterminated " quote'],
  ])('rejects %j with %j', (text, message) => {
    expect(() => splitWords(text)).toThrow(message);
  });
});

describe('parseDuration', () => {
  it.each([
    ['90m', 5_400_000],
    ['26h', 93_600_000],
    ['8d', 691_200_000],
    ['1s', 1000],
    ['2w', 1_209_600_000],
    ['1h30m', 5_400_000],
    [' 1h 30m ', 5_400_000],
    ['500ms', 500],
  ])('%j is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '10', 'h', '1x', '1h30', 'soon'])('rejects %j with a message that shows the format', (text) => {
    expect(() => parseDuration(text)).toThrow('expected a duration like 90m, 26h, 8d or 1h30m');
  });
});
