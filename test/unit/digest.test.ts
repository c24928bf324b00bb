import { countReports, renderDigest, type WaitingReport } from '../../src/report/digest';

const NOW = new Date('2026-11-30T12:00:00Z');
const waiting = (event: string, subject: string, createdAt: string, text = subject): WaitingReport => ({ event, subject, createdAt, text, html: `<p>${subject}</p>` });

describe('the digest of reports that waited while mail was failing', () => {
  it.each([
    [['backup-succeeded', 'backup-succeeded', 'backup-failed'], '2 backups OK, 1 backup failed'],
    [['health-alert', 'backup-succeeded', 'restore-test-passed'], '1 backup OK, 1 restore test passed, 1 health alert'],
    [['storage-report'], '1 storage report'],
  ])('counts %j as "%s"', (events, expected) => {
    expect(countReports(events.map((event) => ({ event })))).toBe(expected);
  });

  it('carries every failure in full and every other report as one line, oldest first, escaped in HTML', () => {
    const digest = renderDigest(
      [
        waiting('backup-succeeded', '[keepsake] OK daily backup <b>2</b>', '2026-11-24T02:00:00.000Z'),
        waiting('backup-failed', '[keepsake] FAILED daily backup', '2026-11-23T02:00:00.000Z', 'pg_dump exited with code 1: pg_dump: error: connection to server lost\nWhat to do: check the database'),
        waiting('backup-succeeded', '[keepsake] OK daily backup 1', '2026-11-22T02:00:00.000Z'),
      ],
      { subjectPrefix: '[keepsake]', now: NOW },
    );
    expect(digest.subject).toBe('[keepsake] FAILED while mail was failing: 2 backups OK, 1 backup failed');
    expect(digest.text).toContain('    pg_dump exited with code 1: pg_dump: error: connection to server lost\n    What to do: check the database');
    expect(digest.text.indexOf('OK daily backup 1')).toBeLessThan(digest.text.indexOf('OK daily backup <b>2</b>'));
    expect(digest.text).toContain('3 reports from 2026-11-22 02:00:00Z to 2026-11-24 02:00:00Z waited in the outbox');
    expect(digest.html).toContain('OK daily backup &lt;b&gt;2&lt;/b&gt;');
    expect(digest.html).not.toContain('<b>2</b>');
  });

  it('is good news in its subject when nothing failed', () => {
    expect(renderDigest([waiting('backup-succeeded', 'a', '2026-11-22T02:00:00.000Z')], { subjectPrefix: '', now: NOW }).subject).toBe('OK while mail was failing: 1 backup OK');
  });
});
