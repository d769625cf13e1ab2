'use server';

import { TRPCError } from '@trpc/server';
import { redirect } from 'next/navigation';
import { creditsApi } from './credits-api';

/**
 * Buying credits from the portal, as a server action: one `accountCredits.topUp` through
 * the session's caller (the role check and the customer come from the session). Charged
 * to the default card: back here with `?topup=paid`; no card: on to the hosted pay page,
 * which returns here. A refusal comes back for the form to show.
 */
export type TopUpState = { error: string | null; at: number };

export async function buyCredits(_prev: TopUpState, form: FormData): Promise<TopUpState> {
  const amount = Number(form.get('amount'));
  const requestKey = String(form.get('requestKey') ?? '') || undefined;
  if (!Number.isSafeInteger(amount) || amount <= 0) return { error: 'Choose an amount of credits to buy.', at: Date.now() };
  let to: string;
  try {
    const r = await (await creditsApi()).topUp({ amount, ...(requestKey ? { requestKey } : {}) });
    to = r.payUrl ?? '/portal/credits?topup=paid';
  } catch (e) {
    if (e instanceof TRPCError && e.code === 'BAD_REQUEST') return { error: 'That amount cannot be bought here: choose between 1.00 and 100,000.00.', at: Date.now() };
    if (e instanceof TRPCError && e.code === 'FORBIDDEN') return { error: 'Buying credits needs billing rights: ask an owner or a billing user.', at: Date.now() };
    console.error(e);
    return { error: 'Something went wrong on our side. Nothing was charged; try again.', at: Date.now() };
  }
  redirect(to);
}
