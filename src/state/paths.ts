import { join } from 'node:path';

/**
 * Everything keepsake keeps in STATE_DIR, named in this one place; the module beside each name
 * owns the file's format. The daemon and every manual command share these files, and existing
 * STATE_DIRs hold them already: their names and formats are a contract, not a detail.
 *
 *   state.json                  daemon-state.ts     the daemon's jobs: last runs, outcomes, next runs; its heartbeat
 *   state.json.damaged-<ms>     daemon-state.ts     a state file that could not be parsed, kept aside for a person
 *   keepsake.lock               job-lock.ts         one job at a time: the daemon's jobs and manual commands
 *   daemon.lock                 daemon-lock.ts      one daemon per STATE_DIR
 *   .<lock>.<token>             job-lock.ts, ...    a lock's draft, link()ed into place; <lock>.stale-<hex>: a stale one moved aside
 *   processes/<token>.json      run-record.ts       what a running keepsake has out in the world (children, temp folders)
 *   health.json                 health-memory.ts    the last health run: for --quick, /healthz, /metrics and alerting
 *   restore-test-latest.json    restore-test-latest.ts  the last restore test this sidecar ran
 *   outbox/<id>.json            outbox.ts           reports not yet accepted by the SMTP server
 *   reports/<id>.html           outbox.ts           readable copies of reports while no SMTP server is configured
 *   outbox-pruned.json          outbox.ts           undelivered reports dropped lately (health warns about them)
 *   outbox/<channel>/<id>.json  channel-outbox.ts   a channel's (webhook, chat, push) messages not yet delivered
 *   outbox/<channel>/given-up/<id>.json  channel-outbox.ts  messages the channel refused for good, kept for a person
 *   channels/<channel>.json     channel-outbox.ts   each channel's last delivery, last failure, given-up messages (health reads it)
 *   channels/<channel>.lock     notify/deliver.ts   held while one process delivers the channel's messages
 *   storage-report-last.json    storage-report-memory.ts  the last storage report's total, for its growth
 *   wal-status.json             wal-status.ts       the WAL receiver and shipper (PITR): streaming or not, the last file archived
 *   logrotate.conf, .status     jobs/logrotate.ts   the rules logrotate runs with, and logrotate's own state
 *   <file>.tmp-<hex>            files.ts            an atomic write under way
 */
export const statePaths = {
  daemonState: (stateDir: string) => join(stateDir, 'state.json'),
  damagedDaemonState: (stateDir: string, at: number) => join(stateDir, `state.json.damaged-${at}`),
  jobLock: (stateDir: string) => join(stateDir, 'keepsake.lock'),
  jobLockDraft: (stateDir: string, token: string) => join(stateDir, `.keepsake.lock.${token}`),
  daemonLock: (stateDir: string) => join(stateDir, 'daemon.lock'),
  daemonLockDraft: (stateDir: string, token: string) => join(stateDir, `.daemon.lock.${token}`),
  runRecords: (stateDir: string) => join(stateDir, 'processes'),
  runRecord: (stateDir: string, token: string) => join(stateDir, 'processes', `${token}.json`),
  healthMemory: (stateDir: string) => join(stateDir, 'health.json'),
  latestRestoreTest: (stateDir: string) => join(stateDir, 'restore-test-latest.json'),
  outbox: (stateDir: string) => join(stateDir, 'outbox'),
  outboxItem: (stateDir: string, id: string) => join(stateDir, 'outbox', `${id}.json`),
  reportCopies: (stateDir: string) => join(stateDir, 'reports'),
  reportCopy: (stateDir: string, id: string) => join(stateDir, 'reports', `${id}.html`),
  outboxPruned: (stateDir: string) => join(stateDir, 'outbox-pruned.json'),
  channelOutbox: (stateDir: string, channel: string) => join(stateDir, 'outbox', channel),
  channelOutboxItem: (stateDir: string, channel: string, id: string) => join(stateDir, 'outbox', channel, `${id}.json`),
  channelGivenUp: (stateDir: string, channel: string) => join(stateDir, 'outbox', channel, 'given-up'),
  channelGivenUpItem: (stateDir: string, channel: string, id: string) => join(stateDir, 'outbox', channel, 'given-up', `${id}.json`),
  channelStatus: (stateDir: string, channel: string) => join(stateDir, 'channels', `${channel}.json`),
  channelLock: (stateDir: string, channel: string) => join(stateDir, 'channels', `${channel}.lock`),
  storageReportMemory: (stateDir: string) => join(stateDir, 'storage-report-last.json'),
  walStatus: (stateDir: string) => join(stateDir, 'wal-status.json'),
  logrotateRules: (stateDir: string) => join(stateDir, 'logrotate.conf'),
  logrotateStatus: (stateDir: string) => join(stateDir, 'logrotate.status'),
} as const;
