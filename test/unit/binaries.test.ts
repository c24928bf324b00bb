import { EXIT_CODES, UnavailableError } from '../../src/errors';
import { chooseBinaryFor, parseToolVersion, type PgBinary } from '../../src/postgres/binaries';

describe('parseToolVersion', () => {
  it.each([
    ['pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)', 15, '15.18'],
    ['pg_dump (PostgreSQL) 17.2', 17, '17.2'],
    ['pg_dump (PostgreSQL) 17.2\n', 17, '17.2'],
    ['pg_restore (PostgreSQL) 16.4 (Ubuntu 16.4-1.pgdg22.04+1)', 16, '16.4'],
    ['postgres (PostgreSQL) 18.0', 18, '18.0'],
    ['psql (PostgreSQL) 14.13 (Homebrew)', 14, '14.13'],
  ])('reads %j as major %i, version %s', (output, major, version) => {
    expect(parseToolVersion(output)).toEqual({ major, version });
  });

  // A pre-release has no minor number; its major is what matters for compatibility.
  it('reads a pre-release like "initdb (PostgreSQL) 16beta1" as major 16', () => {
    expect(parseToolVersion('initdb (PostgreSQL) 16beta1')).toEqual({ major: 16, version: '16' });
  });

  it.each(['', 'garbage', 'pg_dump 17.2', 'pg_dump (PostgreSQL)', 'bash: pg_dump: command not found', 'pg_dump (PostgreSQL) beta'])(
    'returns undefined for %j',
    (output) => {
      expect(parseToolVersion(output)).toBeUndefined();
    },
  );
});

const binary = (major: number): PgBinary => ({ path: `/usr/lib/postgresql/${major}/bin/pg_dump`, major, version: `${major}.1` });

describe('chooseBinaryFor', () => {
  // findPgBinaries hands over the installed copies newest major first.
  it.each([
    [[17, 16, 15], 15, 17],
    [[17, 16, 15], 16, 17],
    [[17, 16, 15], 17, 17],
    [[16], 16, 16],
    [[18, 14], 16, 18],
  ])('from installed majors %j, picks the newest that fits server %i (%i)', (installed, server, chosen) => {
    expect(chooseBinaryFor('pg_dump', installed.map(binary), server).major).toBe(chosen);
  });

  it('refuses when only older versions are installed, naming the package and PG_BIN_DIR', () => {
    let error: unknown;
    try {
      chooseBinaryFor('pg_dump', [binary(16), binary(15)], 17);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as UnavailableError).exitCode).toBe(EXIT_CODES.unavailable);
    expect((error as Error).message).toBe(
      'pg_dump 17 or newer is needed for PostgreSQL 17, but only pg_dump 16, pg_dump 15 are installed; install postgresql-client-17 or set PG_BIN_DIR to its bin directory',
    );
  });

  it('says "is installed" when one older version is installed', () => {
    expect(() => chooseBinaryFor('pg_restore', [binary(15)], 16)).toThrow('but only pg_restore 15 is installed; install postgresql-client-16');
  });

  it('says none is installed when nothing was found', () => {
    expect(() => chooseBinaryFor('pg_dump', [], 17)).toThrow(
      'pg_dump 17 or newer is needed for PostgreSQL 17, but no pg_dump is installed; install postgresql-client-17 or set PG_BIN_DIR to its bin directory',
    );
  });
});
