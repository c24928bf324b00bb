import type { JobName } from '../../src/config';
import type { Logger } from '../../src/log';
import { JobQueue, type RunJob } from '../../src/scheduler/queue';

/**
 * The daemon's queue on jest's fake clock: jobs are stand-ins that wait for the lock and work for
 * a number of (fake) seconds, and say what happened to them. test/integration/daemon*.test.ts prove
 * the same rules with the real daemon and real jobs.
 */
interface Plan {
  /** Seconds spent waiting for the STATE_DIR lock (a manual command holds it). */
  lockWait?: number;
  /** Seconds of work once locked. */
  work: number;
  /** Goes on when aborted (as a job stuck in a system call would). */
  ignoresAbort?: boolean;
}

function harness(plans: Partial<Record<JobName, Plan>>, shutdownGraceMs = 30_000) {
  const events: string[] = [];
  const messages: string[] = [];
  const at = () => `${Date.now() / 1000}s`;
  const run: RunJob = (job, { signal, lock, onLocked }) =>
    new Promise<void>((resolve) => {
      const plan = plans[job] ?? { work: 1 };
      events.push(`${at()} start ${job}${lock ? '' : ' (no lock)'}`);
      let timer: NodeJS.Timeout;
      const end = (how: string) => {
        clearTimeout(timer);
        events.push(`${at()} ${how} ${job}`);
        resolve();
      };
      if (!plan.ignoresAbort) signal.addEventListener('abort', () => end(`aborted (${String(signal.reason)})`), { once: true });
      const work = () => {
        onLocked();
        timer = setTimeout(() => end('done'), plan.work * 1000);
      };
      if (plan.lockWait) timer = setTimeout(work, plan.lockWait * 1000);
      else work();
    });
  // The messages only: the daemon's log says what the queue did (test/integration reads them there).
  const say = (_fields: object, message: string) => void messages.push(message);
  const log = { info: say, warn: say } as unknown as Pick<Logger, 'info' | 'warn'>;
  const queue = new JobQueue({ run, log, shutdownGraceMs });
  /** queue.stop(), with whether it has returned yet. */
  const stop = (reason: string) => {
    const stopping = { done: false };
    void queue.stop(reason).then(() => (stopping.done = true));
    return stopping;
  };
  return { queue, events, messages, stop };
}

/** Lets the fake clock run to `seconds` since the test began, settling promises on the way. */
const until = async (seconds: number) => jest.advanceTimersByTimeAsync(seconds * 1000 - Date.now());

/** The stop has not returned a moment before `seconds`, and has at `seconds`. */
async function expectStoppedAt(stopping: { done: boolean }, seconds: number): Promise<void> {
  await until(seconds - 0.1);
  expect(stopping.done).toBe(false);
  await until(seconds);
  expect(stopping.done).toBe(true);
}

describe('the daemon queue', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('runs jobs one at a time, in the order they came', async () => {
    const { queue, events } = harness({ daily: { work: 5 }, weekly: { work: 3 }, cleanup: { work: 1 } });
    queue.enqueue('daily', 'schedule');
    queue.enqueue('weekly', 'schedule');
    queue.enqueue('cleanup', 'schedule');
    expect(queue.running).toBe('daily');
    await until(20);
    expect(events).toEqual(['0s start daily', '5s done daily', '5s start weekly', '8s done weekly', '8s start cleanup', '9s done cleanup']);
    expect(queue.running).toBeUndefined();
  });

  it('does not queue a job that is already waiting a second time', async () => {
    const { queue, events, messages } = harness({ daily: { work: 10 }, weekly: { work: 1 } });
    queue.enqueue('daily', 'schedule');
    queue.enqueue('weekly', 'schedule');
    await until(3);
    queue.enqueue('weekly', 'schedule'); // its next slot, while the first still waits
    await until(30);
    expect(events.filter((event) => event.includes('start weekly'))).toEqual(['10s start weekly']);
    expect(messages).toContain('job already waiting; not queued twice');
  });

  it('queues the running job again for its next slot: it runs once more, after', async () => {
    const { queue, events } = harness({ daily: { work: 10 } });
    queue.enqueue('daily', 'schedule');
    await until(4);
    queue.enqueue('daily', 'schedule');
    queue.enqueue('daily', 'schedule');
    await until(30);
    expect(events).toEqual(['0s start daily', '10s done daily', '10s start daily', '20s done daily']);
  });

  it('runs read-only jobs beside the running one, without the lock, one of each at a time', async () => {
    const { queue, events, messages } = harness({ daily: { work: 10 }, health: { work: 4 } });
    queue.enqueue('daily', 'schedule');
    await until(1);
    queue.runAlongside('health');
    await until(2);
    queue.runAlongside('health'); // its last run is still going
    await until(6);
    queue.runAlongside('health');
    await until(20);
    expect(events).toEqual(['0s start daily', '1s start health (no lock)', '5s done health', '6s start health (no lock)', '10s done daily', '10s done health']);
    expect(messages).toContain('job still running from its last slot; this slot skipped');
  });

  it('runs the job meant for when it is idle only once the queue is empty', async () => {
    const { queue, events } = harness({ daily: { work: 5 }, weekly: { work: 5 }, health: { work: 1 } });
    queue.enqueue('daily', 'catch-up');
    queue.enqueue('weekly', 'catch-up');
    queue.runAlongsideWhenIdle('health');
    await until(20);
    expect(events).toEqual(['0s start daily', '5s done daily', '5s start weekly', '10s done weekly', '10s start health (no lock)', '11s done health']);
  });

  it('at a stop lets the running job finish within the grace, and drops the jobs waiting', async () => {
    const { queue, stop, events } = harness({ daily: { work: 20 }, weekly: { work: 1 } }, 30_000);
    queue.enqueue('daily', 'schedule');
    queue.enqueue('weekly', 'schedule');
    await until(5);
    await expectStoppedAt(stop('SIGTERM'), 20);
    queue.enqueue('weekly', 'schedule'); // a slot after the stop: nothing runs
    await until(60);
    expect(events).toEqual(['0s start daily', '20s done daily']);
  });

  it('aborts the running job once the grace is over, and the stop waits for it to end', async () => {
    const { queue, stop, events, messages } = harness({ daily: { work: 600 } }, 30_000);
    queue.enqueue('daily', 'schedule');
    await until(10);
    await expectStoppedAt(stop('SIGTERM'), 40);
    expect(events).toEqual(['0s start daily', '40s aborted (SIGTERM) daily']);
    expect(messages).toEqual(['job queued', 'stopping: letting the running job finish', 'shutdown grace over: aborting the running job']);
  });

  it('aborts a job still waiting for the lock at once: nothing started, nothing to finish', async () => {
    const { queue, stop, events, messages } = harness({ daily: { lockWait: 300, work: 10 } }, 30_000);
    queue.enqueue('daily', 'schedule');
    await until(10);
    const stopping = stop('SIGTERM');
    await until(10);
    expect(stopping.done).toBe(true);
    expect(events).toEqual(['0s start daily', '10s aborted (SIGTERM) daily']);
    expect(messages).not.toContain('stopping: letting the running job finish');
  });

  it('aborts read-only jobs at a stop, then lets the running job finish', async () => {
    const { queue, stop, events } = harness({ daily: { work: 20 }, health: { work: 100 } }, 30_000);
    queue.enqueue('daily', 'schedule');
    queue.runAlongside('health');
    await until(5);
    const stopping = stop('SIGTERM');
    await until(5);
    expect(events).toEqual(['0s start daily', '0s start health (no lock)', '5s aborted (SIGTERM) health']);
    await until(20);
    expect(stopping.done).toBe(true);
    expect(events.at(-1)).toBe('20s done daily');
  });

  it('waits 10 seconds at most for a read-only job that does not end when aborted', async () => {
    const { queue, stop } = harness({ health: { work: 100, ignoresAbort: true } });
    queue.runAlongside('health');
    await until(5);
    await expectStoppedAt(stop('SIGTERM'), 15);
  });
});
