/**
 * The Standard Webhooks retry schedule: the first attempt at once, then after 5 s, 5 min,
 * 30 min, 2 h, 5 h, 10 h and 10 h (8 attempts over about 27.6 hours). `RETRY_SCHEDULE_MS[n]`
 * is the wait before attempt n (0-based) after the one before it failed.
 */
export const RETRY_SCHEDULE_MS: readonly number[] = [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

/** An endpoint failing this long (every attempt since its last success) is disabled. */
export const DISABLE_AFTER_FAILING_MS = 5 * 86_400_000;

/** When the next attempt is due after the `attemptsMade`-th of a schedule failed; null: no more. */
export function nextAttemptAfterFailure(attemptsMade: number, failedAt: Date): Date | null {
  const wait = RETRY_SCHEDULE_MS[attemptsMade];
  return wait === undefined ? null : new Date(failedAt.getTime() + wait);
}
