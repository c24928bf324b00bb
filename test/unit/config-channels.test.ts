import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, redactedConfig } from '../../src/config';
import { problemsOf } from '../support/config-problems';


const SLACK_URL = 'https://hooks.slack.com/services/T000/B000/sentinel-slack-token';

describe('notification channels (NOTIFY_<NAME>_*)', () => {
  it('has none by default, and e-mail keeps NOTIFY_ON', () => {
    const config = loadConfig({ NOTIFY_ON: 'backup-failed' });
    expect(config.report.channels).toEqual([]);
    expect(config.report.events).toEqual(['backup-failed']);
  });

  it('reads each named channel, infers the format of well-known services, and defaults to NOTIFY_ON', () => {
    const config = loadConfig({
      NOTIFY_ON_SUCCESS: 'false',
      NOTIFY_SLACK_URL: SLACK_URL,
      NOTIFY_CHAT_URL: 'https://discord.com/api/webhooks/1/abc',
      NOTIFY_OPS_TEAM_URL: 'https://hooks.example.net/keepsake',
      NOTIFY_OPS_TEAM_SECRET: 'sentinel-hmac',
      NOTIFY_OPS_TEAM_ON: 'failures,backup-succeeded',
      NOTIFY_PHONE_URL: 'https://ntfy.example.net/backups',
      NOTIFY_PHONE_FORMAT: 'NTFY',
    });
    const byName = Object.fromEntries(config.report.channels.map((channel) => [channel.name, channel]));
    expect(Object.keys(byName).sort()).toEqual(['chat', 'ops_team', 'phone', 'slack']);
    expect(byName.slack).toMatchObject({ format: 'slack', url: SLACK_URL, formatInferred: true });
    expect(byName.chat!.format).toBe('discord');
    expect(byName.ops_team).toMatchObject({ format: 'webhook', secret: 'sentinel-hmac' });
    expect(byName.ops_team!.events).toEqual(expect.arrayContaining(['backup-failed', 'health-alert', 'backup-succeeded', 'wal-streaming-failed']));
    expect(byName.ops_team!.events).not.toContain('cleanup-summary');
    expect(byName.phone).toMatchObject({ format: 'ntfy', formatInferred: false });
    // NOTIFY_ON_SUCCESS=false: a channel without _ON gets the bad news only, like the e-mail.
    expect(byName.slack!.events).not.toContain('backup-succeeded');
    expect(byName.slack!.events).toContain('backup-failed');
  });

  it('reads the URL and the secret from files (Docker secrets)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'channels-'));
    try {
      writeFileSync(join(dir, 'url'), `${SLACK_URL}\n`);
      writeFileSync(join(dir, 'secret'), 'from-file\n');
      const config = loadConfig({ NOTIFY_HOOK_URL_FILE: join(dir, 'url'), NOTIFY_HOOK_FORMAT: 'webhook', NOTIFY_HOOK_SECRET_FILE: join(dir, 'secret') });
      expect(config.report.channels[0]).toMatchObject({ name: 'hook', url: SLACK_URL, secret: 'from-file', format: 'webhook' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says what to fix for every bad channel setting at once, without showing a URL token', () => {
    const problems = problemsOf({
      NOTIFY_SLACK_URL: 'ftp://hooks.slack.com/sentinel-slack-token',
      NOTIFY_TEAMS_FORMAT: 'teams',
      NOTIFY_X_URL: 'https://example.net/x',
      NOTIFY_X_FORMAT: 'pagerduty',
      NOTIFY_Y_URL: SLACK_URL,
      NOTIFY_Y_SECRET: 'shh',
      NOTIFY_Z_URL: 'https://example.net/z',
      NOTIFY_Z_ON: 'backup-exploded',
      NOTIFY_EMAIL_URL: 'https://example.net/e',
      NOTIFY_SLACK_URI: 'https://example.net',
    });
    const text = problems.join('\n');
    expect(text).not.toContain('sentinel-slack-token');
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^NOTIFY_SLACK_URL=ftp:\/\/hooks\.slack\.com\/\*\*\*: expected an http:\/\/ or https:\/\/ URL/),
        expect.stringMatching(/^NOTIFY_TEAMS_FORMAT set, but NOTIFY_TEAMS_URL is not/),
        expect.stringMatching(/^NOTIFY_X_FORMAT="pagerduty": expected one of webhook, slack, discord, teams, ntfy/),
        expect.stringMatching(/^NOTIFY_Y_SECRET: a slack channel is not signed/),
        expect.stringMatching(/^NOTIFY_Z_ON="backup-exploded": expected "all", "failures" or a comma list of .* \(not backup-exploded\)/),
        expect.stringMatching(/^NOTIFY_EMAIL_URL: cannot name a channel "email": "email" is reserved/),
        expect.stringMatching(/^NOTIFY_SLACK_URI: not a setting keepsake knows/),
      ]),
    );
  });

  it('takes a channel whose name begins with "on" (NOTIFY_ON_CALL_URL) like any other: its URL from a file, hidden in errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'channels-'));
    try {
      writeFileSync(join(dir, 'url'), `${SLACK_URL}\n`);
      expect(loadConfig({ NOTIFY_ON_CALL_URL_FILE: join(dir, 'url') }).report.channels[0]).toMatchObject({ name: 'on_call', url: SLACK_URL, format: 'slack' });
      const problems = problemsOf({ NOTIFY_ON_CALL_URL: 'ftp://hooks.slack.com/sentinel-slack-token' }).join('\n');
      expect(problems).toContain('NOTIFY_ON_CALL_URL=ftp://hooks.slack.com/***');
      expect(problems).not.toContain('sentinel-slack-token');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('treats NOTIFY_ON=failures as every piece of bad news', () => {
    const events = loadConfig({ NOTIFY_ON: 'failures' }).report.events;
    expect(events).toEqual(expect.arrayContaining(['backup-failed', 'restore-test-failed', 'health-alert', 'offsite-failed', 'base-backup-failed', 'wal-streaming-failed']));
    expect(events).not.toContain('backup-succeeded');
    expect(events).not.toContain('test');
  });

  it('keeps channel URLs and secrets out of `keepsake config`', () => {
    const shown = JSON.stringify(redactedConfig(loadConfig({ NOTIFY_SLACK_URL: SLACK_URL, NOTIFY_HOOK_URL: 'https://h.example.net/p?token=sentinel-query', NOTIFY_HOOK_SECRET: 'sentinel-hmac' })));
    expect(shown).toContain('https://hooks.slack.com/***');
    expect(shown).toContain('https://h.example.net/***');
    for (const secret of ['sentinel-slack-token', 'sentinel-query', 'sentinel-hmac']) expect(shown).not.toContain(secret);
  });
});
