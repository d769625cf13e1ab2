import { z } from 'zod';
import type { CustomerId, PlanId, SubscriptionId } from '../types';

/**
 * trialing -> active -> canceled. A subscription on trial is `trialing` until its trial
 * ends; `canceled` is final. Cancelling at period end keeps it active with
 * `cancelAtPeriodEnd` set until the billing cycle reaches that end.
 */
export type SubscriptionStatus = 'trialing' | 'active' | 'canceled';

export interface Subscription {
  id: SubscriptionId;
  customerId: CustomerId;
  /** A specific plan version: the prices this subscriber pays. */
  planId: PlanId;
  status: SubscriptionStatus;
  /** Seats, for licensed features. */
  quantity: number;
  trialStart: Date | null;
  trialEnd: Date | null;
  /** Periods are counted from here (the start, or the end of the trial). */
  billingAnchor: Date;
  /** The current period, half-open: [currentPeriodStart, currentPeriodEnd). */
  currentPeriodStart: Date;
  currentPeriodEnd: Date;
  cancelAtPeriodEnd: boolean;
  canceledAt: Date | null;
  endedAt: Date | null;
  metadata: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

export const createSubscriptionSchema = z.object({
  customerId: z.string(),
  planId: z.string(),
  quantity: z.number().int().min(1).max(1_000_000).default(1),
  /** Overrides the plan's trial length; 0 for no trial. */
  trialDays: z.number().int().min(0).max(365).optional(),
  metadata: z.record(z.string().max(100), z.string().max(500)).default({}),
});
export type CreateSubscriptionInput = z.input<typeof createSubscriptionSchema>;

export const cancelSchema = z.object({
  /** `now` ends it at once; `period_end` lets it run to the end of the paid period. */
  at: z.enum(['now', 'period_end']).default('period_end'),
});
export type CancelInput = z.input<typeof cancelSchema>;
