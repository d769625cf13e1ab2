/** Benchmarks print one JSON object per line: {"name","value","unit","baseline"?}. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** The name of the figure this one is compared with, measured in the same run. */
  baseline?: string;
  note?: string;
}

export function report(f: Figure): void {
  console.log(JSON.stringify({ ...f, value: Math.round(f.value * 100) / 100 }));
}

/** Runs `fn` n times, sequentially; returns operations per second. */
export async function opsPerSecond(n: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  return (n / (performance.now() - t0)) * 1000;
}

/** Per-call latencies in microseconds, sorted. */
export async function latenciesUs(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn(i);
    out.push((performance.now() - t0) * 1000);
  }
  return out.sort((a, b) => a - b);
}

export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
