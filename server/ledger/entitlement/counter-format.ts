import { Dec, type Scope } from '../types';

/**
 * How usage counters are written in Redis: exact decimals as an integer part and a
 * fraction in units of 10⁻¹² (added with HINCRBY, never as floats), and their keys.
 */
export const FRACTION = new Dec('1e12');

/** Decimal → [integer part, fraction in 10⁻¹² units], both integer strings. */
export function splitDecimal(value: string): [string, string] {
  const d = new Dec(value);
  const i = d.floor();
  return [i.toFixed(), d.minus(i).times(FRACTION).floor().toFixed()];
}

/** The inverse of splitDecimal: "12", "500000000000" → "12.5". */
export function joinDecimal(i: string, f: string): string {
  if (f === '0') return i; // whole units, the common case: no decimal arithmetic
  return new Dec(i).plus(new Dec(f).div(FRACTION)).toFixed();
}

/**
 * One customer's usage of a feature in a period, as the feature aggregates it: the
 * aggregation (and counted property) are part of the key, since a plan change can keep
 * the period and the feature key but count it another way.
 */
export function counterKey(
  scope: Scope,
  customerId: string,
  feature: { key: string; aggregation: string; uniqueProperty?: string },
  periodStartMs: number,
): string {
  const how = feature.aggregation === 'unique_count' ? `unique_count(${feature.uniqueProperty ?? ''})` : feature.aggregation;
  return `ledger:usage:${scope.tenantId}:${scope.appId}:${customerId}:${feature.key}:${how}:${periodStartMs}`;
}

export function softLimitKey(scope: Scope, customerId: string, featureKey: string, periodStartMs: number): string {
  return `ledger:soft:${scope.tenantId}:${scope.appId}:${customerId}:${featureKey}:${periodStartMs}`;
}
