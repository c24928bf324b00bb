import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Collect = (options: { type: 'minor' | 'major' }) => void;
let collect: Collect | undefined;

function collector(): Collect {
  if (!collect) {
    // Node frees the 64 KiB buffers that pipes deliver only when V8 collects garbage, and V8 waits
    // for tens of MB of them first. A young-generation collection every few MB keeps a backup's
    // memory flat (measured: ~40 MB of churn down to ~15 MB, at no measurable cost in time).
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as Collect;
  }
  return collect;
}

/** Returns a callback for byte totals that runs a young-generation GC every `everyBytes`. */
export function bufferReleaser(everyBytes = 8 * 1024 * 1024): (totalBytes: number) => void {
  const gc = collector();
  let next = everyBytes;
  return (totalBytes) => {
    if (totalBytes < next) return;
    next = totalBytes + everyBytes;
    gc({ type: 'minor' });
  };
}
