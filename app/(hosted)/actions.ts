'use server';

import { redirect } from 'next/navigation';
import { isLedgerError, type SandboxCardInput } from '@/server/ledger';
import { getRuntime } from '@/server/runtime';
import { cardErrorState, readCard, sentenceOf } from './card-form';
import type { CardFormState, PayFormState } from './form-state';
import { localPath } from './format';
import { returnQuery } from './return-path';

/**
 * The hosted pages' server actions. No API key and no cookie: the page's signed token,
 * bound into each action by the page, is the only authority, and the engine reads the
 * scope and the object from it (server/ledger/payment/hosted-pages.ts). Next.js refuses
 * a server action whose Origin is not the app's, so another site cannot post them.
 */


const SOMETHING_WRONG = 'Something went wrong on our side. Please try again in a moment.';

/** A refused token or a gone invoice: back to the page, which says the link is invalid. */
function linkGone(e: unknown): boolean {
  return isLedgerError(e) && e.code === 'not_found';
}

/** `returnTo`: the page's way back to the portal, kept on the page the action redirects to (checked again there). */
export async function payInvoice(token: string, returnTo: string | null, prev: PayFormState, form: FormData): Promise<PayFormState> {
  const seq = prev.seq + 1;
  const which = form.get('form') === 'new' ? 'new' : 'saved';
  const base: PayFormState = { seq, fieldErrors: {}, formError: null, values: { number: '', expiry: '' }, form: which, notice: null };
  let choice: { methodId?: string; card?: SandboxCardInput } = {};
  if (which === 'new') {
    const read = readCard(form, seq);
    if ('state' in read) return { ...base, ...read.state };
    choice = { card: read.card };
    base.values = { number: String(form.get('number') ?? ''), expiry: String(form.get('expiry') ?? '') };
  } else {
    const methodId = form.get('methodId');
    if (typeof methodId === 'string' && methodId) choice = { methodId };
  }

  const rt = await getRuntime();
  let outcome: Awaited<ReturnType<typeof rt.ledger.hosted.pay>>;
  try {
    outcome = await rt.ledger.hosted.pay(token, choice);
  } catch (e) {
    if (linkGone(e)) {
      if (choice.methodId && /payment method/.test((e as Error).message)) return { ...base, form: 'saved', formError: 'That card is no longer saved. Choose another card.' };
      redirect(`/pay/${token}${returnQuery(returnTo)}`);
    }
    const card = cardErrorState(e, seq, base.values);
    if (card) return { ...base, ...card };
    if (isLedgerError(e)) return { ...base, formError: sentenceOf(e.message) };
    console.error('[hosted] paying an invoice failed', e);
    return { ...base, formError: SOMETHING_WRONG };
  }
  switch (outcome.status) {
    case 'paid':
      redirect(`/pay/${token}${returnQuery(returnTo)}`);
    case 'requires_action':
      redirect(localPath(outcome.confirmUrl));
    case 'failed':
      // The provider's own words: "Your card was declined."
      return { ...base, formError: outcome.message, declined: true, values: { number: '', expiry: base.values.expiry } };
    case 'pending':
      return { ...base, notice: outcome.message };
  }
}

export async function addCard(token: string, prev: CardFormState, form: FormData): Promise<CardFormState> {
  const seq = prev.seq + 1;
  const read = readCard(form, seq);
  if ('state' in read) return read.state;
  const values = { number: String(form.get('number') ?? ''), expiry: String(form.get('expiry') ?? '') };
  const rt = await getRuntime();
  let successUrl: string;
  try {
    ({ successUrl } = await rt.ledger.hosted.addCard(token, read.card));
  } catch (e) {
    if (linkGone(e)) redirect(`/sandbox/setup/${token}`);
    const card = cardErrorState(e, seq, values);
    if (card) return card;
    if (isLedgerError(e)) return { seq, fieldErrors: {}, formError: sentenceOf(e.message), values };
    console.error('[hosted] saving a card failed', e);
    return { seq, fieldErrors: {}, formError: SOMETHING_WRONG, values };
  }
  redirect(successUrl);
}

/** The sandbox's 3-D Secure page: Complete or Fail, then back to the invoice's pay page. */
export async function authenticate(token: string, form: FormData): Promise<void> {
  const outcome = form.get('outcome') === 'fail' ? 'fail' : 'complete';
  const rt = await getRuntime();
  let payUrl: string;
  try {
    ({ payUrl } = await rt.ledger.hosted.authenticate(token, outcome));
  } catch (e) {
    if (!isLedgerError(e)) throw e;
    // The page shows what is the case now (a link gone, a payment settled meanwhile).
    redirect(`/sandbox/confirm/${token}`);
  }
  redirect(localPath(payUrl));
}
