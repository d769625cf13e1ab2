'use client';

import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { errorMessageOf, useTRPC } from '@/app/_lib/trpc-react';
import { CANCEL_REASONS, CANCEL_REASON_LABELS, type CancelReason } from '@/server/portal/views/plans';
import { buttonDanger, buttonSecondary } from '../../_components/buttons';
import { DateTime } from '../../_components/date-time';
import { Money } from '../../_components/money';
import { Skeleton } from '../../_components/skeleton';
import { Dialog, DialogError } from './dialog';
import { PREVIEW_QUERY } from './preview-query';

const radio = 'size-4 shrink-0 border-slate-300 text-indigo-600 accent-indigo-600 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600';

/**
 * Cancelling: why (a reason, required, and free text), when (at the period end, or now
 * with the unused part credited as balance), and what the customer loses.
 */
export function CancelDialog({ planName, onClose, onDone }: { planName: string; onClose: () => void; onDone: (message: string) => void }) {
  const trpc = useTRPC();
  const previewQuery = useQuery(trpc.accountPlans.previewCancel.queryOptions(undefined, PREVIEW_QUERY));
  const preview = previewQuery.data ?? null;
  const [reason, setReason] = useState<CancelReason | null>(null);
  const [comment, setComment] = useState('');
  const [at, setAt] = useState<'period_end' | 'now'>('period_end');
  const [formError, setFormError] = useState<string | null>(null);
  const cancel = useMutation(trpc.accountPlans.cancel.mutationOptions({ onError: (e) => setFormError(errorMessageOf(e)) }));
  const pending = cancel.isPending;
  const error = formError ?? (previewQuery.error ? errorMessageOf(previewQuery.error) : null);

  const submit = () => {
    if (!reason) return setFormError('Choose a reason, so we know what to improve.');
    setFormError(null);
    cancel.mutate(
      { at, reason, comment },
      { onSuccess: () => onDone(at === 'now' ? `Your ${planName} subscription has ended.` : `Your ${planName} subscription will end at the end of the period. You can resume it until then.`) },
    );
  };

  return (
    <Dialog
      title={`Cancel ${planName}`}
      onClose={onClose}
      testId="cancel-dialog"
      footer={
        <>
          <button type="button" onClick={onClose} className={buttonSecondary}>
            Keep my plan
          </button>
          <button type="button" onClick={submit} disabled={pending || !preview} className={buttonDanger} data-testid="confirm-cancel">
            {pending ? 'Cancelling…' : at === 'now' ? 'Cancel now' : 'Cancel at period end'}
          </button>
        </>
      }
    >
      <div className="space-y-5">
        <fieldset>
          <legend className="font-semibold text-slate-900">Why are you cancelling?</legend>
          <div className="mt-2 grid gap-1.5">
            {CANCEL_REASONS.map((r) => (
              <label key={r} className="flex cursor-pointer items-center gap-2.5 rounded-lg px-2 py-1.5 hover:bg-slate-50">
                <input type="radio" name="cancel-reason" value={r} checked={reason === r} onChange={() => setReason(r)} className={radio} />
                <span className="text-slate-800">{CANCEL_REASON_LABELS[r]}</span>
              </label>
            ))}
          </div>
        </fieldset>
        <div>
          <label htmlFor="cancel-comment" className="font-semibold text-slate-900">
            Anything else? <span className="font-normal text-slate-600">(optional)</span>
          </label>
          <textarea
            id="cancel-comment"
            value={comment}
            maxLength={500}
            rows={3}
            onChange={(e) => setComment(e.target.value)}
            className="mt-1.5 block w-full rounded-lg border border-slate-300 px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-2 focus:outline-indigo-600"
          />
        </div>
        <fieldset>
          <legend className="font-semibold text-slate-900">When</legend>
          <div className="mt-2 grid gap-1.5">
            <label className="flex cursor-pointer items-start gap-2.5 rounded-lg px-2 py-1.5 hover:bg-slate-50">
              <input type="radio" name="cancel-at" value="period_end" checked={at === 'period_end'} onChange={() => setAt('period_end')} className={`${radio} mt-0.5`} />
              <span>
                <span className="block text-slate-800">At the end of the period</span>
                <span className="block text-xs text-slate-600">
                  Keep everything until {preview ? <DateTime value={preview.periodEnd} /> : 'the period ends'}; you can resume until then.
                </span>
              </span>
            </label>
            <label className="flex cursor-pointer items-start gap-2.5 rounded-lg px-2 py-1.5 hover:bg-slate-50">
              <input type="radio" name="cancel-at" value="now" checked={at === 'now'} onChange={() => setAt('now')} className={`${radio} mt-0.5`} />
              <span>
                <span className="block text-slate-800">Now</span>
                <span className="block text-xs text-slate-600" data-testid="cancel-credit">
                  {!preview ? (
                    previewQuery.isPending ? (
                      <>
                        <span className="sr-only">Working out the credit…</span>
                        <Skeleton className="mt-1 h-3 w-56 max-w-full" />
                      </>
                    ) : (
                      'The credit could not be worked out.'
                    )
                  ) : preview.trial ? 'Your trial ends now; nothing is charged.' : preview.credit > 0 ? (
                    <>
                      The unused part of this period, <Money amount={preview.credit} currency={preview.currency} /> before tax, is credited to your balance for later invoices. Usage so far is billed.
                    </>
                  ) : (
                    'No credit applies. Usage so far is billed.'
                  )}
                </span>
              </span>
            </label>
          </div>
        </fieldset>
        {preview && preview.losses.length > 0 && (
          <div className="rounded-xl border border-amber-200 bg-amber-50 p-4 text-amber-950">
            <p className="font-semibold">{at === 'now' ? 'You lose at once:' : 'At the period end you lose:'}</p>
            <ul className="mt-1.5 list-disc space-y-0.5 pl-5">
              {preview.losses.map((l) => (
                <li key={l}>{l}</li>
              ))}
            </ul>
          </div>
        )}
      </div>
      <DialogError message={error} />
    </Dialog>
  );
}
