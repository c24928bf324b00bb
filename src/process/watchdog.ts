import { spawn, type ChildProcess } from 'node:child_process';
import { childEnv } from './child-env';

/**
 * Node has no prctl(PR_SET_PDEATHSIG): a child outlives a keepsake killed with SIGKILL (or by the
 * out-of-memory killer), and a pg_restore goes on writing into a database nobody watches. So each
 * keepsake process that starts children also starts this watchdog, a small shell that reads the
 * process groups of those children ("+ <pgid> <signal>", "- <pgid>") from a pipe whose only writer
 * is keepsake. When keepsake dies, however it dies, the kernel closes the pipe; the watchdog reads
 * EOF and stops every group still listed: its signal first (QUIT makes PostgreSQL shut down at
 * once and remove its shared memory), SIGKILL a second later. A keepsake that exits normally has
 * stopped its children and emptied the list, so the watchdog just exits.
 *
 * Children get the pipe's write end only if they inherit it: libuv opens it close-on-exec, so none
 * does, and EOF comes when keepsake is gone, not when its last child is. The watchdog runs in its
 * own session, so Ctrl-C in a terminal (which reaches keepsake's process group) does not take it
 * away while keepsake cleans up.
 */
const SCRIPT = `
groups=''
while read -r op pgid sig; do
  case "$op" in
    +) groups="$groups $pgid:$sig" ;;
    -) kept=''; for g in $groups; do [ "\${g%%:*}" = "$pgid" ] || kept="$kept $g"; done; groups=$kept ;;
  esac
done
[ -n "$groups" ] || exit 0
for g in $groups; do kill -s "\${g#*:}" -- "-\${g%%:*}" 2>/dev/null; done
sleep 1
for g in $groups; do kill -s KILL -- "-\${g%%:*}" 2>/dev/null; done
`;

let watchdog: ChildProcess | undefined;
let broken = false;

function started(): ChildProcess | undefined {
  if (watchdog || broken) return watchdog;
  // childEnv: like every child, it gets no configuration; it used to inherit every secret.
  const child = spawn('/bin/sh', ['-c', SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'], detached: true, env: childEnv() });
  const giveUp = () => {
    broken = true; // without it children are still stopped by keepsake itself; only a SIGKILL leaks them
    watchdog = undefined;
  };
  child.on('error', giveUp);
  child.on('exit', giveUp);
  child.stdin!.on('error', giveUp);
  // Neither the watchdog nor its pipe may keep keepsake running once its work is done.
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  watchdog = child;
  return watchdog;
}

/** Names a child's process group (its pid: children lead their own group) for the watchdog. */
export function watchGroup(pgid: number, signal: NodeJS.Signals): void {
  started()?.stdin?.write(`+ ${pgid} ${signal.replace(/^SIG/, '')}\n`);
}

export function unwatchGroup(pgid: number): void {
  if (watchdog) watchdog.stdin?.write(`- ${pgid}\n`);
}

/** The watchdog's pid, recorded in STATE_DIR so a test (or a curious operator) can find it. */
export function watchdogPid(): number | undefined {
  return watchdog?.pid;
}
