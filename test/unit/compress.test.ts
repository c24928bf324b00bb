import { parseZstdSummary } from '../../src/backup/compress';

describe('parseZstdSummary reads the exact sizes zstd -vv reports', () => {
  it.each([
    ['/*stdin*\\            : 31.69%   (875804112 B => 277547597 B, /*stdout*\\) \n', { rawBytes: 875804112, storedBytes: 277547597 }],
    ['/*stdin*\\            :218.18%   (    11 B =>     24 B, /*stdout*\\) ', { rawBytes: 11, storedBytes: 24 }],
    ['/*stdin*\\            :  (     0 B =>     13 B, /*stdout*\\) ', { rawBytes: 0, storedBytes: 13 }],
  ])('%j', (stderr, expected) => {
    expect(parseZstdSummary(`Decompression will require 2097152 B of memory\n${stderr}/*stdin*\\ : Completed in 0.00 sec`)).toEqual(expected);
  });

  it('returns undefined when the summary is missing or in human units', () => {
    expect(parseZstdSummary('/*stdin*\\ : 75.37%   (  64.4 MiB =>   48.5 MiB, /*stdout*\\)')).toBeUndefined();
    expect(parseZstdSummary('')).toBeUndefined();
  });
});
