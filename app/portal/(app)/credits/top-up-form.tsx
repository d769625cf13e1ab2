'use client';

import { useActionState, useId, useMemo, useState } from 'react';
import { formatMoney } from '@/app/_lib/format';
import { buttonPrimary } from '../../_components/buttons';
import { buyCredits, type TopUpState } from './actions';

/** Whole units of the currency offered at one click (10.00, 25.00 …). */
const PRESETS = [10, 25, 50, 100];

/** The currency's minor-unit exponent (USD 2, JPY 0), from the browser's own currency data. */
const exponentOf = (currency: string) => new Intl.NumberFormat('en-US', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;

/**
 * Buy credits: a preset or an amount of one's own, and a button that says the money
 * before anything happens ("Buy $25.00 of credits"). Credits are whole minor units, so
 * $25.00 buys 2,500 credits.
 */
export function TopUpForm({ currency, hasCard, requestKey }: { currency: string; hasCard: boolean; requestKey: string }) {
  const [state, action, pending] = useActionState<TopUpState, FormData>(buyCredits, { error: null, at: 0 });
  const exp = useMemo(() => exponentOf(currency), [currency]);
  const [major, setMajor] = useState<string>('25');
  const id = useId();
  const parsed = /^\d{1,6}(\.\d{0,3})?$/.test(major.trim()) ? Number(major) : NaN;
  const minor = Number.isFinite(parsed) ? Math.round(parsed * 10 ** exp) : NaN;
  const valid = Number.isSafeInteger(minor) && minor >= 100 && minor <= 10_000_000;
  const customError = major.trim() !== '' && !valid ? `Enter an amount between ${formatMoney(100, currency)} and ${formatMoney(10_000_000, currency)}.` : null;
  const error = customError ?? state.error;

  return (
    <form action={action} className="space-y-4" noValidate>
      <fieldset>
        <legend className="text-sm font-medium text-slate-800">Amount</legend>
        <div className="mt-2 grid grid-cols-4 gap-2">
          {PRESETS.map((p) => {
            const on = Number(major) === p;
            return (
              <button
                key={p}
                type="button"
                aria-pressed={on}
                onClick={() => setMajor(String(p))}
                className={`rounded-lg px-2 py-2 text-sm font-medium tabular-nums ring-1 ring-inset transition-colors focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 ${on ? 'bg-indigo-50 text-indigo-800 ring-indigo-500' : 'bg-white text-slate-800 ring-slate-300 hover:bg-slate-50'}`}
              >
                {formatMoney(p * 10 ** exp, currency).replace(/\.00$/, '')}
              </button>
            );
          })}
        </div>
      </fieldset>
      <div>
        <label htmlFor={id} className="block text-sm font-medium text-slate-800">
          Or another amount ({currency})
        </label>
        <input
          id={id}
          inputMode="decimal"
          autoComplete="off"
          value={major}
          onChange={(e) => setMajor(e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-error` : `${id}-hint`}
          className="mt-1 block w-full rounded-lg border-0 bg-white px-3 py-2 text-sm text-slate-900 tabular-nums shadow-sm ring-1 ring-inset ring-slate-300 focus:ring-2 focus:ring-inset focus:ring-indigo-600 aria-[invalid=true]:ring-rose-500"
        />
        {error ? (
          <p id={`${id}-error`} className="mt-1 text-sm text-rose-700" role="alert" data-testid="top-up-error">
            {error}
          </p>
        ) : (
          <p id={`${id}-hint`} className="mt-1 text-xs text-slate-500">
            {valid ? `${minor.toLocaleString('en-US')} credits` : 'Credits are worth their face value.'}
          </p>
        )}
      </div>
      <input type="hidden" name="amount" value={valid ? minor : ''} />
      {/* One key per page shown: sent twice (a double click, a resubmitted form), it buys once. */}
      <input type="hidden" name="requestKey" value={requestKey} />
      <button type="submit" className={`${buttonPrimary} w-full`} disabled={!valid || pending} data-testid="buy-credits">
        {pending ? 'Starting…' : valid ? `Buy ${formatMoney(minor, currency)} of credits` : 'Buy credits'}
      </button>
      <p className="text-xs text-slate-500">
        {hasCard ? 'Charged to your default card now. ' : 'You pay on the next page. '}
        Credits are added once the payment succeeds, and pay your next invoices before your card is charged.
      </p>
    </form>
  );
}
