import type { Logger } from '../../log';
import { coerceError } from '../../errors';
import { readWalStatus, writeWalStatus, type WalStatus } from '../../state/wal-status';

/** How often the status file is rewritten while nothing changes: readers tell a live receiver by `updatedAt`. */
export const STATUS_REFRESH_MS = 5_000;

/**
 * The receiver's and shipper's shared WalStatus, kept in memory and written to STATE_DIR on every
 * change (coalesced: one write in flight, one pending) and every STATUS_REFRESH_MS, so `health`,
 * `status` and `/metrics` in other processes read it fresh.
 */
export class WalStatusKeeper {
  private writing: Promise<void> = Promise.resolve();
  private pending = false;
  private timer?: NodeJS.Timeout;

  private constructor(
    private readonly stateDir: string,
    private readonly log: Logger,
    readonly status: WalStatus,
  ) {}

  /** Starts from the last file's alert spell and archive facts (a restarted daemon keeps them), the receiver down until it streams. */
  static async open(stateDir: string, log: Logger, now = new Date()): Promise<WalStatusKeeper> {
    const previous = await readWalStatus(stateDir);
    const status: WalStatus = {
      receiver: { state: 'down', since: now.toISOString(), restarts: 0 },
      ...(previous?.lastShipped ? { lastShipped: previous.lastShipped } : {}),
      ...(previous?.partial ? { partial: previous.partial } : {}),
      ...(previous?.alert ? { alert: previous.alert } : {}),
      spool: { files: 0, bytes: 0 },
      updatedAt: now.toISOString(),
    };
    const keeper = new WalStatusKeeper(stateDir, log, status);
    keeper.timer = setInterval(() => keeper.save(), STATUS_REFRESH_MS);
    keeper.timer.unref();
    await keeper.save();
    return keeper;
  }

  /** Changes the status and writes it soon. */
  update(change: (status: WalStatus) => void): void {
    change(this.status);
    void this.save();
  }

  /** Writes the status now (after any write in flight); never throws. */
  save(): Promise<void> {
    if (this.pending) return this.writing;
    this.pending = true;
    this.writing = this.writing.then(async () => {
      this.pending = false;
      this.status.updatedAt = new Date().toISOString();
      await writeWalStatus(this.stateDir, this.status).catch((error) => this.log.error({ err: coerceError(error) }, 'could not write the WAL status file'));
    });
    return this.writing;
  }

  /** Stops the refresh and writes the last word. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.save();
  }
}
