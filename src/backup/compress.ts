import { PassThrough, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CompressionConfig } from '../config';
import { spawnChild, type ChildHandle } from '../process/run-process';
import { CountingStream } from './digest';

/** A running compression stage: the compressed bytes come out of `output`. */
export interface Compression {
  output: Readable;
  /** Child processes doing the work (killed together with the dump on failure). */
  processes: ChildHandle[];
  /** Settles when the dump's bytes have all been handed to the compressor. */
  pumped: Promise<void>;
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
    const probe = spawnChild('zstd', ['-vv', '-c'], { stdin: 'pipe', stdout: 'ignore' });
    probe.child.stdin!.end('keepsake');
    const result = await probe.finished;
    return result.exitCode === 0 && parseZstdSummary(result.stderrTail)?.rawBytes === 8;
  })();
  return zstdReportsSizes;
}

/**
 * Compresses pg_dump's output in the zstd or gzip CLI (multi-threaded, outside Node's event loop).
 * With zstd, pg_dump's stdout is connected straight to zstd's stdin: the raw dump never passes
 * through Node, which on a small machine is worth ~15% of the backup's time. zstd -vv then reports
 * the exact raw size. Otherwise Node pumps and counts the bytes itself.
 */
export async function startCompression(config: CompressionConfig, dump: ChildHandle): Promise<Compression> {
  const source = dump.child.stdout!;
  if (config.algorithm === 'zstd' && (await zstdCanReportSizes())) {
    const zstd = spawnChild('zstd', [`-${config.level}`, `-T${config.threads}`, '-vv', '-c'], { stdin: source });
    source.destroy(); // zstd holds its own copy of the pipe; ours would only keep it open
    return {
      output: zstd.child.stdout!,
      processes: [zstd],
      pumped: Promise.resolve(),
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
    output: codec.output,
    processes: codec.process ? [codec.process] : [],
    pumped: pipeline(source, counter, codec.input),
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

