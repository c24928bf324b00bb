import type { CommandContext } from './context';

/**
 * First SIGINT/SIGTERM aborts the running operation cleanly (children killed, partial objects
 * removed); a second one exits at once.
 */
export function interruptOnSignals(context: CommandContext): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143);
    context.err(`\n${signal} received: stopping and cleaning up (send it again to force)`);
    controller.abort(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
