/** Reads one series from the Prometheus text format: the value of `name` with exactly these labels, or undefined. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1]!, x[2]!] as const).sort(([a], [b]) => a.localeCompare(b));
    if (got.length === want.length && got.every(([k, v], i) => want[i]![0] === k && want[i]![1] === v)) return Number(m[3]);
  }
  return undefined;
}

/** Every label name used by a series of `name`. */
export function labelNamesOf(text: string, name: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    for (const x of line.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) out.add(x[1]!);
  }
  return out;
}

/** Lets hooks fired without await (usage, entitlement checks) run. */
export const settled = () => new Promise((r) => setImmediate(r));
