'use server';

import { TRPCError } from '@trpc/server';
import { revalidatePath } from 'next/cache';
import type { CancelReason } from '@/server/portal/views/plans';
import { plansApi } from './plans-api';

/**
 * The plans page's writes and previews, as server actions: each calls one `accountPlans`
 * procedure through the session's server-side caller (plans-api.ts), so the role check
 * (owner, billing) and the customer come from the session, and the browser holds no key.
 * A refusal comes back as `{ ok: false, error }` for the dialog to show; the page is
 * re-rendered after a change.
 */
export type ActionResult<T = null> = { ok: true; data: T } | { ok: false; error: string };

async function run<T>(fn: (api: Awaited<ReturnType<typeof plansApi>>) => Promise<T>, write = true): Promise<ActionResult<T>> {
  try {
    const data = await fn(await plansApi());
    if (write) revalidatePath('/portal', 'layout');
    return { ok: true, data };
  } catch (e) {
    // Next's redirect (signed out) must pass through.
    if (!(e instanceof TRPCError)) throw e;
    return { ok: false, error: e.code === 'INTERNAL_SERVER_ERROR' ? 'Something went wrong on our side. Nothing was changed; try again.' : e.message };
  }
}

export async function previewChange(input: { planKey?: string; quantity?: number }) {
  return run((api) => api.previewChange(input), false);
}
export async function previewCancel() {
  return run((api) => api.previewCancel(), false);
}
export async function subscribe(input: { planKey: string; couponCode?: string }) {
  return run((api) => api.subscribe({ planKey: input.planKey, ...(input.couponCode?.trim() ? { couponCode: input.couponCode.trim() } : {}) }));
}
export async function changePlan(input: { planKey: string }) {
  return run((api) => api.changePlan(input));
}
export async function changeSeats(input: { quantity: number }) {
  return run((api) => api.changeSeats(input));
}
export async function cancel(input: { at: 'now' | 'period_end'; reason: CancelReason; comment: string }) {
  return run((api) => api.cancel(input));
}
export async function resume() {
  return run((api) => api.resume());
}
export async function applyCoupon(input: { code: string }) {
  return run((api) => api.applyCoupon(input));
}
