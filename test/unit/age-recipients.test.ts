import { execFileSync } from 'node:child_process';
import { dataKey, idOfKey, manifestKeyFor } from '../../src/backup/keys';
import { identitiesIn, parseRecipients } from '../../src/encryption/recipients';

// A key pair as age-keygen prints it (made for this test only).
const PUBLIC = 'age17w069hy4k0ymg7yz6q4x24f3zxkzt7t8s4xj24gjvgep6hrgcetsw9r7ut';
const SECRET = 'AGE-SECRET-KEY-1F6D2TJJX6S33S73ZT2DY3MLXKD8PWC56THA2GMXQ3EV9C9HN49ZSVMU5V3';

describe('parseRecipients', () => {
  it('reads keys separated by commas, spaces and newlines, with comments', () => {
    const other = 'age1pnpmycga0w33xppcd6xjlvzt8xr5ql43ajdp4v9f754esguarc0qjc65a6';
    expect(parseRecipients(`# ops\n${PUBLIC}, ${other} # laptop\n${PUBLIC}`)).toEqual([PUBLIC, other]);
  });

  it('refuses a key with one character mistyped (its Bech32 checksum)', () => {
    const typo = PUBLIC.replace('w069', 'w096');
    expect(() => parseRecipients(typo)).toThrow(`not an age public key: "${typo}"`);
  });

  it('refuses a private key without printing it', () => {
    let message = '';
    try {
      parseRecipients(SECRET);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('a private key (AGE-SECRET-KEY-...)');
    expect(message).not.toContain(SECRET);
  });

  it('accepts what age-keygen makes', () => {
    const identity = execFileSync('age-keygen', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(identitiesIn(identity)).toHaveLength(1);
    expect(parseRecipients(identity.match(/public key: (\S+)/)![1]!)).toHaveLength(1);
  });
});

describe('keys of encrypted backups', () => {
  it('end in .age, and keep their id and manifest name', () => {
    const key = dataKey('daily', 'app', new Date('2026-11-22T02:00:00Z'), 'zstd', true);
    expect(key).toBe('daily/2026/11/22/app_20261122_020000.dump.zst.age');
    expect(idOfKey(key)).toBe('app_20261122_020000');
    expect(manifestKeyFor(key)).toBe('daily/2026/11/22/app_20261122_020000.manifest.json');
  });
});
