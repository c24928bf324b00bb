import { rootKeepsakeError } from '../errors';

/** pino's numeric levels. */
const INFO = 30;
const WARN = 40;
const ERROR = 50;

interface LogRecord {
  level: number;
  msg?: string;
  err?: { message?: string; stack?: string };
  error?: unknown;
  [field: string]: unknown;
}

/** Fields every record has: not worth a person's attention. */
const HOUSEKEEPING = new Set(['level', 'time', 'app', 'pid', 'hostname', 'msg', 'err', 'error']);

/**
 * A manual command's log as people read it on stderr, whether a terminal or a pipe; the JSON lines
 * go to LOG_DIR/keepsake.log. Warnings print at once, one line each. Errors wait for the command's
 * end (`finish`): the error the command fails with is printed once, by cli.ts, as its last line;
 * errors it logged and survived are printed before that. `verbose` adds info lines and stacks.
 */
export class TerminalLog {
  private readonly held: LogRecord[] = [];

  constructor(
    private readonly print: (line: string) => void,
    private readonly verbose: () => boolean,
  ) {}

  /** pino's destination interface: one JSON record per call. */
  write(json: string): void {
    let record: LogRecord;
    try {
      record = JSON.parse(json) as LogRecord;
    } catch {
      return this.print(json.trimEnd());
    }
    if (record.level >= ERROR) this.held.push(record);
    else if (record.level >= WARN) this.print(this.render(record, 'warning: '));
    else if (record.level >= INFO && this.verbose()) this.print(this.render(record, ''));
  }

  /** Prints the errors logged on the way that are not `failure` itself (or one of its causes). */
  finish(failure?: unknown): void {
    const failed = messagesOf(failure);
    const logged = this.held.splice(0);
    for (const record of logged) {
      const message = record.err?.message;
      // pino writes an error's message followed by its causes' ("outer: inner").
      if (message && failed.some((text) => message === text || message.startsWith(`${text}: `))) continue;
      this.print(this.render(record, ''));
    }
  }

  private render(record: LogRecord, label: string): string {
    const detail = record.err?.message ?? (typeof record.error === 'string' ? record.error : undefined);
    const fields = this.verbose() ? fieldsOf(record) : '';
    const line = `keepsake: ${label}${record.msg ?? ''}${detail ? `: ${detail}` : ''}${fields}`;
    return this.verbose() && record.err?.stack ? `${record.err.stack}\n${line}` : line;
  }
}

/** " (key=value, ...)" for a record's own simple fields. */
function fieldsOf(record: LogRecord): string {
  const pairs = Object.entries(record)
    .filter(([key, value]) => !HOUSEKEEPING.has(key) && ['string', 'number', 'boolean'].includes(typeof value))
    .map(([key, value]) => `${key}=${String(value)}`);
  return pairs.length ? ` (${pairs.join(', ')})` : '';
}

/** The messages of an error and of every error in its cause chain. */
function messagesOf(error: unknown): string[] {
  const messages: string[] = [];
  for (let current = error, depth = 0; current instanceof Error && depth < 10; current = current.cause, depth++) messages.push(current.message);
  const known = rootKeepsakeError(error);
  if (known) messages.push(known.message);
  return messages;
}

/** An error's stack and its causes' stacks, for --verbose. */
export function stackWithCauses(error: unknown): string {
  const parts: string[] = [];
  for (let current = error, depth = 0; current !== undefined && depth < 10; depth++) {
    parts.push(`${depth ? 'caused by: ' : ''}${current instanceof Error ? (current.stack ?? current.message) : String(current)}`);
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join('\n');
}
