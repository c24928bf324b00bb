import { hostname } from 'node:os';
import type { BackupDeps } from '../backup/run-backup';
import { reportEventName, sidecarOfConfig, type ReportEvent } from '../report/events';
import { notify } from '../report/notify';
import { renderReport } from '../report/render';
import { noticeFor } from '../notify/notice-for';

/**
 * The jobs as the daemon and the CLI run them: the work, then its report. Reporting happens
 * after the work, never fails it (notify files the report and swallows errors), and an
 * operator's interrupt is not news worth an e-mail.
 */
export interface JobDeps extends BackupDeps {
  /** When the job runs next (the daemon knows; a manual run does not). */
  nextRun?: string | null;
}

/** What a job reports back: a one-line summary for the log and the state file, and for backups what was stored. */
export type JobResult = string | { summary: string; storedBytes: number; backupId: string };

/** What a scheduled job does. */
export type JobRunner = (deps: JobDeps, signal: AbortSignal) => Promise<JobResult>;

/**
 * Files the job's report for e-mail and every channel that wants it (and sends it); never throws. Every report names
 * the sidecar that sent it: several may mail one inbox.
 */
export async function report(deps: JobDeps, event: ReportEvent): Promise<void> {
  const named: ReportEvent = { ...event, sidecar: sidecarOfConfig(deps.config) };
  const now = new Date();
  await notify(
    { config: deps.config, log: deps.log },
    reportEventName(event),
    () => renderReport(named, { subjectPrefix: deps.config.report.subjectPrefix, now }),
    () => noticeFor(named, { now, hostname: hostname() }),
  );
}
