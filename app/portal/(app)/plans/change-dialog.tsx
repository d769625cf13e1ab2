'use client';

import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { errorMessageOf, useTRPC } from '@/app/_lib/trpc-react';
import { buttonPrimary, buttonSecondary } from '../../_components/buttons';
import { DateTime } from '../../_components/date-time';
import { Money } from '../../_components/money';
import { Skeleton } from '../../_components/skeleton';
import { Dialog, DialogError } from './dialog';
import { InvoiceLines } from './invoice-lines';
import { PREVIEW_QUERY } from './preview-query';

/**
 * Confirms a plan change (`planKey`) or a seat change (`quantity`) after showing its
 * preview: what is charged now (the proration invoice), the next invoice, and when a
 * downgrade takes effect. Nothing changes until Confirm.
 */
export function ChangeDialog({
  kind,
  planKey,
  planName,
  quantity,
  currentName,
  onClose,
  onDone,
}: {
  kind: 'plan' | 'seats';
  planKey?: string;
  planName?: string;
  quantity?: number;
  currentName: string;
  onClose: () => void;
  onDone: (message: string) => void;
}) {
  const trpc = useTRPC();
  const previewQuery = useQuery(trpc.accountPlans.previewChange.queryOptions(kind === 'plan' ? { planKey } : { quantity }, PREVIEW_QUERY));
  const preview = previewQuery.data ?? null;
  const [writeError, setWriteError] = useState<string | null>(null);
  const onError = (e: unknown) => setWriteError(errorMessageOf(e));
  const changePlan = useMutation(trpc.accountPlans.changePlan.mutationOptions({ onError }));
  const changeSeats = useMutation(trpc.accountPlans.changeSeats.mutationOptions({ onError }));
  const pending = changePlan.isPending || changeSeats.isPending;
  const error = writeError ?? (previewQuery.error ? errorMessageOf(previewQuery.error) : null);

  const confirm = () => {
    setWriteError(null);
    if (kind === 'seats') {
      changeSeats.mutate({ quantity: quantity! }, { onSuccess: () => onDone(`You now have ${quantity} seats.`) });
      return;
    }
    const later = preview?.effective === 'period_end';
    changePlan.mutate(
      { planKey: planKey! },
      { onSuccess: () => onDone(later ? `Your plan changes to ${planName} at the end of the period.` : `You are now on ${planName}.`) },
    );
  };

  const title = kind === 'plan' ? (preview ? `${preview.upgrade ? 'Upgrade' : 'Downgrade'} to ${preview.plan.name}` : `Change to ${planName}`) : `Change seats to ${quantity}`;
  const charge = preview?.chargeNow ?? null;

  return (
    <Dialog
      title={title}
      onClose={onClose}
      testId="change-dialog"
      footer={
        <>
          <button type="button" onClick={onClose} className={buttonSecondary}>
            Keep {kind === 'plan' ? currentName : 'current seats'}
          </button>
          <button type="button" onClick={confirm} disabled={!preview || pending} className={buttonPrimary} data-testid="confirm-change">
            {pending ? 'Confirming…' : 'Confirm'}
          </button>
        </>
      }
    >
      {!preview && !error && (
        <div className="space-y-3" aria-busy="true">
          <p role="status" className="sr-only">Working out the price…</p>
          <Skeleton className="h-4 w-3/4" />
          <Skeleton className="h-4 w-1/2" />
          <Skeleton className="h-16 w-full" />
        </div>
      )}
      {preview && (
        <div className="space-y-5">
          <p className="text-slate-700">
            {preview.trial ? (
              <>You are on a free trial: <strong className="font-semibold text-slate-900">nothing is charged now</strong>, and the change applies at once.</>
            ) : preview.effective === 'period_end' ? (
              <>
                This takes effect at the end of your current period, on <strong className="font-semibold text-slate-900"><DateTime value={preview.effectiveAt} /></strong>. You keep {currentName} until then, and nothing is charged now.
              </>
            ) : (
              <>This takes effect now. The unused part of your current fees is credited and the new fees are charged for the rest of the period.</>
            )}
          </p>

          {charge && (
            <section aria-labelledby="charge-now" className="rounded-xl border border-slate-200 p-4">
              <h3 id="charge-now" className="mb-2 flex items-baseline justify-between gap-2 font-semibold text-slate-900">
                <span>{charge.total >= 0 ? 'Charged now' : 'Credited now'}</span>
                <span className="text-base" data-testid="charge-now-total">
                  <Money amount={Math.abs(charge.total)} currency={charge.currency} />
                </span>
              </h3>
              <InvoiceLines invoice={charge} caption="The invoice made now" testId="charge-now-lines" />
              {charge.total < 0 && <p className="mt-2 text-xs text-slate-600">A credit is kept as balance and taken off your next invoices.</p>}
            </section>
          )}
          {!charge && !preview.trial && preview.effective === 'now' && <p className="text-slate-700">Nothing is charged now.</p>}

          {preview.nextInvoice && (
            <section aria-labelledby="next-invoice" className="rounded-xl border border-slate-200 bg-slate-50/60 p-4">
              <h3 id="next-invoice" className="mb-2 flex items-baseline justify-between gap-2 font-semibold text-slate-900">
                <span>
                  Next invoice · <DateTime value={preview.nextInvoice.at} />
                </span>
                <span className="text-base" data-testid="next-invoice-total">
                  <Money amount={preview.nextInvoice.total} currency={preview.nextInvoice.currency} />
                </span>
              </h3>
              <InvoiceLines invoice={preview.nextInvoice} caption="The next invoice" />
              <p className="mt-2 text-xs text-slate-600">Plus any usage beyond what is included, before coupons.</p>
            </section>
          )}
        </div>
      )}
      <DialogError message={error} />
    </Dialog>
  );
}
