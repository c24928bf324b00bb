import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { CompressionConfig } from '../config';
import { spawnChild, type ChildHandle } from '../process/run-process';

export interface Codec {
  input: Writable;
  output: Readable;
  /** The child doing the work, or undefined for "none". */
  process?: ChildHandle;
}

/** Compression runs in the zstd or gzip CLI: multi-threaded, outside Node's event loop. */
export function startCompressor(config: CompressionConfig): Codec {
  switch (config.algorithm) {
    case 'zstd':
      return fromChild(spawnChild('zstd', [`-${config.level}`, `-T${config.threads}`, '-q', '-c'], { stdin: 'pipe' }));
    case 'gzip':
      return fromChild(spawnChild('gzip', ['-c', `-${config.level}`], { stdin: 'pipe' }));
    case 'none':
      return passThrough();
  }
}

/** The inverse, for verify and restore: zstd and gzip also check their own frame checksums. */
export function startDecompressor(algorithm: CompressionConfig['algorithm']): Codec {
  switch (algorithm) {
    case 'zstd':
      return fromChild(spawnChild('zstd', ['-d', '-q', '-c'], { stdin: 'pipe' }));
    case 'gzip':
      return fromChild(spawnChild('gzip', ['-d', '-c'], { stdin: 'pipe' }));
    case 'none':
      return passThrough();
  }
}

function fromChild(handle: ChildHandle): Codec {
  return { input: handle.child.stdin!, output: handle.child.stdout!, process: handle };
}

function passThrough(): Codec {
  const stream = new PassThrough({ highWaterMark: 1024 * 1024 });
  return { input: stream, output: stream };
}
