import { PassThrough, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CompressionConfig } from '../config';
import { spawnChild, type ChildHandle } from '../process/run-process';
import { CountingStream } from './digest';

/** A running compression stage: pg_dump writes into it, the compressed bytes come out of `output`. */
export interface Compression {
  /** pg_dump's stdout: the compressor's own stdin pipe, or 'pipe' when Node pumps the bytes. */
  dumpStdout: Writable | 'pipe';
  /** Call once pg_dump is spawned; settles when its bytes have all reached the compressor. */
  connect(dump: ChildHandle): Promise<void>;
  output: Readable;
  /** Child processes doing the work (killed together with the dump on failure). */
  processes: ChildHandle[];
  /** How many uncompressed bytes went in; valid once the compressor has exited. */
  rawBytes(): Promise<number>;
}

// zstd -vv ends with "/*stdin*\ : 31.69%   (875804112 B => 277547597 B, /*stdout*\)".
const ZSTD_SUMMARY = /\(\s*(\d+) B =>\s*(\d+) B, \/\*stdout\*\\\)/g;

export function parseZstdSummary(stderr: string): { rawBytes: number; storedBytes: number } | undefined {
  const last = [...stderr.matchAll(ZSTD_SUMMARY)].pop();
  return last ? { rawBytes: Number(last[1]), storedBytes: Number(last[2]) } : undefined;
}

let zstdReportsSizes: Promise<boolean> | undefined;

/** Whether this zstd prints exact byte counts with -vv (checked once per process on a tiny input). */
function zstdCanReportSizes(): Promise<boolean> {
  zstdReportsSizes ??= (async () => {
    // Large enough that a zstd printing rounded units ("1.00 MiB") fails the probe.
    const input = Buffer.alloc(1024 * 1024 + 7, 'k');
    const probe = spawnChild('zstd', ['-vv', '-c'], { stdin: 'pipe', stdout: 'ignore' });
    probe.child.stdin!.on('error', () => undefined).end(input);
    const result = await probe.finished;
    return result.exitCode === 0 && parseZstdSummary(result.stderrTail)?.rawBytes === input.length;
  })();
  return zstdReportsSizes;
}

/**
 * Compresses pg_dump's output in the zstd or gzip CLI (multi-threaded, outside Node's event loop).
 * With zstd, zstd is started first and its stdin pipe is handed to pg_dump as stdout: the raw dump
 * never passes through Node (worth ~15% of a backup's time on a small machine), and Node never
 * reads that pipe, so no byte can be lost in between. zstd -vv then reports the exact raw size.
 * Otherwise Node pumps and counts the bytes itself.
 */
export async function startCompression(config: CompressionConfig): Promise<Compression> {
  if (config.algorithm === 'zstd' && (await zstdCanReportSizes())) {
    const zstd = spawnChild('zstd', [`-${config.level}`, `-T${config.threads}`, '-vv', '-c'], { stdin: 'pipe' });
    const stdin = zstd.child.stdin!;
    return {
      dumpStdout: stdin,
      async connect() {
        stdin.destroy(); // pg_dump and zstd hold the pipe now; our copy would only keep it open
      },
      output: zstd.child.stdout!,
      processes: [zstd],
      async rawBytes() {
        const summary = parseZstdSummary((await zstd.finished).stderrTail);
        if (!summary) throw new Error(`zstd did not report the raw size: ${zstd.stderrTail().trim()}`);
        return summary.rawBytes;
      },
    };
  }
  const command = {
    zstd: ['zstd', `-${config.level}`, `-T${config.threads}`, '-q', '-c'],
    gzip: ['gzip', '-c', `-${config.level}`],
    none: undefined,
  }[config.algorithm];
  const codec = startCodec(command);
  const counter = new CountingStream();
  return {
    dumpStdout: 'pipe',
    connect: (dump) => pipeline(dump.child.stdout!, counter, codec.input),
    output: codec.output,
    processes: codec.process ? [codec.process] : [],
    rawBytes: async () => counter.bytes,
  };
}

interface Codec {
  input: Writable;
  output: Readable;
  process?: ChildHandle;
}

function startCodec(command: string[] | undefined): Codec {
  if (!command) {
    const stream = new PassThrough({ highWaterMark: 1024 * 1024 });
    return { input: stream, output: stream };
  }
  const handle = spawnChild(command[0]!, command.slice(1), { stdin: 'pipe' });
  return { input: handle.child.stdin!, output: handle.child.stdout!, process: handle };
}

/** The inverse, for verify and restore: zstd and gzip also check their own frame checksums. */
export function startDecompressor(algorithm: CompressionConfig['algorithm']): Codec {
  return startCodec({ zstd: ['zstd', '-d', '-q', '-c'], gzip: ['gzip', '-d', '-c'], none: undefined }[algorithm]);
}


/** A compressor with Node feeding it, for small files (a WAL segment): one thread, no size report needed. */
export function startCompressor(config: Pick<CompressionConfig, 'algorithm' | 'level'>): Codec {
  return startCodec({ zstd: ['zstd', `-${config.level}`, '-T1', '-q', '-c'], gzip: ['gzip', '-c', `-${config.level}`], none: undefined }[config.algorithm]);
}
