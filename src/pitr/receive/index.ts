import type { Deps } from '../../deps';
import { primaryStorages } from '../../storage';
import { prepareSpool, startReceiver, type Receiver } from './receiver';
import { startShipper } from './shipper';
import { WalStatusKeeper } from './status-keeper';
import { watchOutages, type OutageWatch } from './outage-reports';

/** Knobs tests turn to see in seconds what takes minutes in production. */
export interface WalStreamingOptions {
  pollMs?: number;
  /** How long an outage lasts before it is reported (default 2 minutes). */
  outageGraceMs?: number;
  outageCheckMs?: number;
  receiverBackoffMs?: number;
  receiverStableMs?: number;
  shipBackoffMs?: number;
}

export interface WalStreaming {
  readonly receiver: Receiver;
  readonly keeper: WalStatusKeeper;
  readonly outages: OutageWatch;
  /** Stops pg_receivewal (SIGTERM: it flushes), ships what is complete within graceMs, writes the last status. */
  stop(graceMs: number): Promise<void>;
}

/**
 * PITR=on in the daemon: pg_receivewal streaming into WAL_SPOOL_DIR, the shipper moving the spool
 * to every primary target, the status file, and outage reports (docs/architecture.md "Point-in-time recovery").
 */
export async function startWalStreaming(deps: Deps, options: WalStreamingOptions = {}): Promise<WalStreaming> {
  const { config, log } = deps;
  await prepareSpool(config.pitr.spoolDir);
  const keeper = await WalStatusKeeper.open(config.stateDir, log);
  const receiver = startReceiver({ database: config.database, slot: config.pitr.slot, spoolDir: config.pitr.spoolDir, pgBinDir: config.pgBinDir, log, status: keeper, backoffMs: options.receiverBackoffMs, stableStreamingMs: options.receiverStableMs });
  const shipper = startShipper({
    storages: primaryStorages(deps.storages),
    archive: { compression: config.compression, encryption: config.encryption },
    spoolDir: config.pitr.spoolDir,
    shipIntervalMs: config.pitr.shipIntervalMs,
    log,
    status: keeper,
    pollMs: options.pollMs,
    backoffMs: options.shipBackoffMs,
  });
  const outages = watchOutages(deps, keeper, { graceMs: options.outageGraceMs, everyMs: options.outageCheckMs });
  log.info({ slot: config.pitr.slot, spoolDir: config.pitr.spoolDir }, 'PITR: WAL streaming started');
  return {
    receiver,
    keeper,
    outages,
    async stop(graceMs) {
      const deadline = Date.now() + graceMs;
      await outages.stop();
      await receiver.stop();
      await shipper.stop(Math.max(1_000, deadline - Date.now()));
      await keeper.close();
    },
  };
}
