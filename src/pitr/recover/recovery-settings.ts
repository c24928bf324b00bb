import { appendFile, chown, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { postgresTime, type RecoveryTarget } from './recovery-target';

/** A value in postgresql.conf syntax: single quotes, a quote doubled. */
export const confValue = (value: string): string => `'${value.replace(/'/g, "''")}'`;

/**
 * Turns an unpacked base backup into one that recovers: `recovery.signal`, and in
 * postgresql.auto.conf (read after postgresql.conf, so these win) how to get WAL, where to stop
 * (the last commit at or before the time; for latest, the end of the archive) and to promote there.
 */
export async function writeRecoverySettings(dataDir: string, restoreCommand: string, target: RecoveryTarget, owner?: { uid: number; gid: number }): Promise<void> {
  const settings: Record<string, string> = {
    restore_command: restoreCommand,
    ...(target.kind === 'time' ? { recovery_target_time: postgresTime(target), recovery_target_inclusive: 'on' } : {}),
    recovery_target_action: 'promote',
    recovery_target_timeline: 'latest',
  };
  const lines = Object.entries(settings).map(([name, value]) => `${name} = ${confValue(value)}`);
  await appendFile(join(dataDir, 'postgresql.auto.conf'), `\n# keepsake restore --at: point-in-time recovery\n${lines.join('\n')}\n`);
  await writeFile(join(dataDir, 'recovery.signal'), '', { mode: 0o600 });
  if (owner) {
    await chown(join(dataDir, 'postgresql.auto.conf'), owner.uid, owner.gid);
    await chown(join(dataDir, 'recovery.signal'), owner.uid, owner.gid);
  }
}
