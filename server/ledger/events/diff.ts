/**
 * An object as JSON (dates as ISO strings, undefined dropped), and the top-level fields
 * of `before` that differ from `after`: Stripe's `previous_attributes`, and the audit
 * trail's before/after.
 */
export function toJson(value: object): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}

export function changedFields(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> | null {
  const previous: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    // updatedAt and version change on every write: noise, not a change.
    if (key === 'updatedAt' || key === 'version') continue;
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) previous[key] = before[key] ?? null;
  }
  return Object.keys(previous).length ? previous : null;
}
