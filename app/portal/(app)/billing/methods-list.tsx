'use client';

import { useState, useTransition } from 'react';
import { buttonDanger, buttonPrimary, buttonSecondary } from '../../_components/buttons';
import { Dialog } from '../plans/dialog';
import { addCard, removeMethod, setDefaultMethod } from './actions';
import type { SavedCard } from './types';

const BRANDS: Record<string, string> = { visa: 'Visa', mastercard: 'Mastercard', amex: 'American Express', discover: 'Discover', jcb: 'JCB', diners: 'Diners Club', unionpay: 'UnionPay' };
const brandOf = (b: string) => BRANDS[b] ?? b.charAt(0).toUpperCase() + b.slice(1);
const expiry = (m: SavedCard) => `${String(m.expMonth).padStart(2, '0')}/${String(m.expYear).slice(-2)}`;

/**
 * The saved cards: the default marked, "Make default", "Remove" (confirmed in a dialog,
 * which says when the default goes), and "Add a card" (the provider's hosted page). A
 * member sees the list only.
 */
export function MethodsList({ methods, canManage }: { methods: SavedCard[]; canManage: boolean }) {
  const [busy, start] = useTransition();
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [removing, setRemoving] = useState<SavedCard | null>(null);

  const act = (fn: () => Promise<{ ok: true } | { ok: false; error: string }>, done: string) =>
    start(async () => {
      setError(null);
      setNotice(null);
      const r = await fn();
      if (r.ok) setNotice(done);
      else setError(r.error);
    });

  return (
    <div className="space-y-4">
      <div role="status" aria-live="polite" className="empty:hidden" data-testid="methods-notice">
        {notice && <p className="rounded-lg border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-900">{notice}</p>}
      </div>
      <div role="alert" className="empty:hidden">
        {error && <p className="rounded-lg border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-900">{error}</p>}
      </div>
      {methods.length === 0 ? (
        <div className="rounded-lg border border-dashed border-slate-300 px-4 py-6 text-center" data-testid="methods-empty">
          <p className="text-sm font-medium text-slate-900">No saved cards</p>
          <p className="mt-1 text-sm text-slate-600">
            {canManage ? 'Add a card to pay invoices automatically when they are issued.' : 'Invoices are paid by hand until an owner or a billing user adds a card.'}
          </p>
        </div>
      ) : (
        <ul className="divide-y divide-slate-100 rounded-lg border border-slate-200" aria-label="Saved cards">
          {methods.map((m) => (
            <li key={m.id} className="flex flex-wrap items-center justify-between gap-3 px-4 py-3" data-testid={`card-${m.last4}`}>
              <div className="flex min-w-0 items-center gap-3">
                <span className="grid h-7 w-10 shrink-0 place-items-center rounded-md bg-slate-100 text-[0.625rem] font-bold uppercase tracking-wide text-slate-700" aria-hidden="true">
                  {m.brand.slice(0, 4)}
                </span>
                <div className="min-w-0">
                  <p className="text-sm font-medium text-slate-900">
                    {brandOf(m.brand)} ending in {m.last4}
                    {m.isDefault && <span className="ml-2 rounded-full bg-indigo-100 px-2 py-0.5 text-xs font-semibold text-indigo-800">Default</span>}
                  </p>
                  <p className={`text-xs ${m.expired ? 'font-medium text-rose-700' : 'text-slate-600'}`}>{m.expired ? `Expired ${expiry(m)}` : `Expires ${expiry(m)}`}</p>
                </div>
              </div>
              {canManage && (
                <div className="flex gap-2">
                  {!m.isDefault && !m.expired && (
                    <button type="button" className={buttonSecondary} disabled={busy} onClick={() => act(() => setDefaultMethod(m.id), `${brandOf(m.brand)} ending in ${m.last4} is now your default card.`)}>
                      Make default<span className="sr-only">: {brandOf(m.brand)} ending in {m.last4}</span>
                    </button>
                  )}
                  <button type="button" className={buttonSecondary} disabled={busy} onClick={() => setRemoving(m)}>
                    Remove<span className="sr-only">: {brandOf(m.brand)} ending in {m.last4}</span>
                  </button>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {canManage && (
        <div className="flex flex-col gap-2 sm:flex-row sm:items-center sm:justify-between">
          <p className="text-xs text-slate-500">You add a card on the payment provider&apos;s secure page; we never see the number.</p>
          <button type="button" className={`${buttonPrimary} shrink-0`} disabled={busy} onClick={() => act(async () => addCard(), 'Opening the secure card page…')}>
            Add a card
          </button>
        </div>
      )}
      {removing && (
        <Dialog
          title={`Remove ${brandOf(removing.brand)} ending in ${removing.last4}?`}
          onClose={() => setRemoving(null)}
          testId="remove-dialog"
          footer={
            <>
              <button type="button" className={buttonSecondary} onClick={() => setRemoving(null)}>
                Keep card
              </button>
              <button
                type="button"
                className={buttonDanger}
                disabled={busy}
                onClick={() => {
                  const m = removing;
                  setRemoving(null);
                  act(() => removeMethod(m.id), `${brandOf(m.brand)} ending in ${m.last4} was removed.`);
                }}
              >
                Remove card
              </button>
            </>
          }
        >
          <p>
            {removing.isDefault
              ? 'This is your default card. Without a default, new invoices are not charged automatically: you pay them by hand until you choose another default.'
              : 'The card is removed from your account and will not be charged again.'}
          </p>
        </Dialog>
      )}
    </div>
  );
}
