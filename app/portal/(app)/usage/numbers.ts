/** Counts as the portal writes them: "1,500", "12.5" (server-rendered, en-US, as the overview). */
export const count = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 4 });

/** "1 call", "1,500 calls", "30 GB" (a unit in capitals stays as it is). */
export const unitWord = (n: number, unit: string) => (n === 1 || !/^[a-z]/.test(unit) ? unit : `${unit}s`);
export const units = (n: number, unit: string) => `${count(n)} ${unitWord(n, unit)}`;

/** The UTC day (week, month) of a chart bucket in words, for labels that cannot hold a client component (SVG titles, aria-labels). */
export function utcBucketText(d: Date, granularity: 'day' | 'week' | 'month'): string {
  const f = new Intl.DateTimeFormat('en-US', granularity === 'month' ? { month: 'short', year: 'numeric', timeZone: 'UTC' } : { month: 'short', day: 'numeric', timeZone: 'UTC' });
  return granularity === 'week' ? `week of ${f.format(d)}` : f.format(d);
}

/** The least "round" number ≥ n (1, 2, 2.5, 5 × 10^k): the top of a chart's scale. */
export function niceCeiling(n: number): number {
  if (n <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}
