'use client';

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useEffect, useId, useRef, useState, useTransition } from 'react';
import { errorMessageOf, useTRPC } from '@/app/_lib/trpc-react';
import { AlertBanner } from '../../_components/alert-banner';
import { buttonPrimary, buttonSecondary, textLink } from '../../_components/buttons';
import { Card, Field } from '../../_components/card';
import { DateTime } from '../../_components/date-time';
import { Money } from '../../_components/money';
import { StatusBadge } from '../../_components/status-badge';
import { CancelDialog } from './cancel-dialog';
import { ChangeDialog } from './change-dialog';
import type { PlanCardData, PlansData, SubscriptionData } from './types';

const intervalText = ({ unit, count }: { unit: string; count: number }) => (count === 1 ? `/ ${unit}` : `every ${count} ${unit}s`);
const input =
  'block w-full rounded-lg border border-slate-300 px-3 py-2 text-sm shadow-sm placeholder:text-slate-500 focus:border-indigo-500 focus:outline-2 focus:outline-indigo-600';

type Open = { kind: 'plan'; plan: PlanCardData } | { kind: 'seats'; quantity: number } | { kind: 'cancel' } | null;

/**
 * The plans page's interactive part: the current subscription (seats, coupon, cancel,
 * resume) and the pricing table (subscribe, or change plan through the preview dialog).
 * A member sees it all with the buttons disabled and says whom to ask. Every read and write
 * is an `accountPlans` procedure called from here through tRPC's TanStack Query options
 * (the session's cookie says who; the input never names the customer); after a write the
 * page's server components render again (router.refresh).
 */
export function PlansBoard({ data, preselect }: { data: PlansData; preselect: string | null }) {
  const router = useRouter();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState<Open>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Until the refreshed page arrives, the buttons stay busy: no second subscribe meanwhile.
  const [refreshing, startRefresh] = useTransition();
  const subscribe = useMutation(trpc.accountPlans.subscribe.mutationOptions({ onError: (e) => setError(errorMessageOf(e)) }));
  const [coupon, setCoupon] = useState('');
  const readOnly = !data.canManageBilling;
  const noteId = useId();
  const sub = data.subscription;
  const current = data.plans.find((p) => p.current) ?? null;

  /**
   * After any write here: a change of subscription moves every figure the portal shows
   * (the previews, usage against the plan's limits, invoices and balance), so every tRPC
   * query of this tab is stale (those on screen are fetched again); the server components
   * render again with the new state.
   */
  const done = (message: string) => {
    setOpen(null);
    setError(null);
    setNotice(message);
    void queryClient.invalidateQueries({ queryKey: trpc.pathKey() });
    startRefresh(() => router.refresh());
  };

  const doSubscribe = (plan: PlanCardData) => {
    setNotice(null);
    const code = coupon.trim();
    subscribe.mutate(
      { planKey: plan.key, ...(code ? { couponCode: code } : {}) },
      {
        onSuccess: (r) => {
          setCoupon('');
          done(r.trialEnd ? `Your ${plan.trialDays}-day trial of ${plan.name} has started. Nothing is charged until it ends.` : `You are subscribed to ${plan.name}.`);
        },
      },
    );
  };

  return (
    <div className="space-y-6">
      {readOnly && (
        <div id={noteId}>
          <AlertBanner tone="info" title="You can view plans but not change them">
            Changing the plan, seats or coupon needs billing rights: ask an owner or a billing user.
          </AlertBanner>
        </div>
      )}
      <div aria-live="polite" role="status">
        {notice && (
          <p className="rounded-xl border border-emerald-200 bg-emerald-50 px-4 py-3 text-sm font-medium text-emerald-900" data-testid="plans-notice">
            {notice}
          </p>
        )}
      </div>
      {error && !open && (
        <p role="alert" className="rounded-xl border border-rose-200 bg-rose-50 px-4 py-3 text-sm text-rose-800">
          {error}
        </p>
      )}

      {sub && current && (
        <CurrentSubscription
          sub={sub}
          plan={current}
          readOnly={readOnly}
          noteId={noteId}
          onSeats={(quantity) => setOpen({ kind: 'seats', quantity })}
          onCancel={() => setOpen({ kind: 'cancel' })}
          onDone={done}
        />
      )}

      <section aria-labelledby="plans-heading">
        <div className="mb-3 flex flex-wrap items-end justify-between gap-3">
          <h2 id="plans-heading" className="text-lg font-semibold text-slate-900">
            {sub ? 'All plans' : 'Choose a plan'}
          </h2>
          {!sub && (
            <div className="w-full sm:w-72">
              <label htmlFor="subscribe-coupon" className="mb-1 block text-xs font-medium text-slate-600">
                Coupon code (optional)
              </label>
              <input id="subscribe-coupon" value={coupon} onChange={(e) => setCoupon(e.target.value)} autoComplete="off" spellCheck={false} className={input} placeholder="e.g. WELCOME20" disabled={readOnly} />
            </div>
          )}
        </div>
        {data.plans.length === 0 ? (
          <Card>
            <p className="py-6 text-center text-sm text-slate-600">No plans are on sale right now. Please check back later.</p>
          </Card>
        ) : (
          <ul className="grid gap-4 md:grid-cols-2 lg:grid-cols-3">
            {data.plans.map((plan) => (
              <PlanTile
                key={plan.key}
                plan={plan}
                sub={sub}
                current={current}
                preselected={!sub && preselect === plan.key}
                readOnly={readOnly}
                noteId={noteId}
                busy={subscribe.isPending || refreshing}
                onSubscribe={() => doSubscribe(plan)}
                onChange={() => setOpen({ kind: 'plan', plan })}
              />
            ))}
          </ul>
        )}
      </section>

      {open?.kind === 'plan' && current && (
        <ChangeDialog kind="plan" planKey={open.plan.key} planName={open.plan.name} currentName={current.name} onClose={() => setOpen(null)} onDone={done} />
      )}
      {open?.kind === 'seats' && current && <ChangeDialog kind="seats" quantity={open.quantity} currentName={current.name} onClose={() => setOpen(null)} onDone={done} />}
      {open?.kind === 'cancel' && current && <CancelDialog planName={current.name} onClose={() => setOpen(null)} onDone={done} />}

      {!readOnly && sub && <CouponForm current={sub.coupon} onDone={done} />}
    </div>
  );
}

function CurrentSubscription({
  sub,
  plan,
  readOnly,
  noteId,
  onSeats,
  onCancel,
  onDone,
}: {
  sub: SubscriptionData;
  plan: PlanCardData;
  readOnly: boolean;
  noteId: string;
  onSeats: (quantity: number) => void;
  onCancel: () => void;
  onDone: (message: string) => void;
}) {
  const trpc = useTRPC();
  const [seats, setSeats] = useState(sub.quantity);
  const [error, setError] = useState<string | null>(null);
  const resume = useMutation(trpc.accountPlans.resume.mutationOptions({ onError: (e) => setError(errorMessageOf(e)) }));
  const pending = resume.isPending;
  useEffect(() => setSeats(sub.quantity), [sub.quantity]);
  const max = plan.seats?.limit ?? 1_000_000;
  const dis = readOnly ? { disabled: true, 'aria-describedby': noteId } : {};

  const doResume = () => {
    setError(null);
    resume.mutate(undefined, { onSuccess: () => onDone(`Your ${plan.name} subscription continues: the cancellation is withdrawn.`) });
  };

  return (
    <Card title="Your subscription" titleId="current-sub" action={<StatusBadge status={sub.status} />}>
      <dl className="grid grid-cols-2 gap-x-6 gap-y-4 lg:grid-cols-4">
        <Field label="Plan">
          <span className="font-semibold" data-testid="current-plan">{sub.planName}</span>
        </Field>
        <Field label={sub.trialEnd ? 'Trial ends' : sub.cancelAtPeriodEnd ? 'Ends' : 'Renews'}>
          <DateTime value={sub.trialEnd ?? sub.currentPeriod.end} />
        </Field>
        <Field label="Seats">{sub.quantity.toLocaleString('en-US')}</Field>
        <Field label="Coupon">{sub.coupon ? <span className="font-mono text-xs">{sub.coupon}</span> : <span className="text-slate-500">None</span>}</Field>
      </dl>

      {sub.pendingChange && (
        <p className="mt-4 rounded-lg bg-indigo-50 px-3 py-2 text-sm text-indigo-900">
          Changes to <strong>{sub.pendingChange.planName}</strong> on <DateTime value={sub.pendingChange.at} />.
        </p>
      )}
      {sub.cancelAtPeriodEnd && (
        <div className="mt-4 flex flex-col gap-3 rounded-lg border border-amber-200 bg-amber-50 px-4 py-3 sm:flex-row sm:items-center sm:justify-between">
          <p className="text-sm text-amber-950">
            Your subscription ends on <strong><DateTime value={sub.currentPeriod.end} /></strong>. Resume it to keep your plan.
          </p>
          <button type="button" onClick={doResume} className={buttonPrimary} disabled={pending || readOnly} aria-describedby={readOnly ? noteId : undefined} data-testid="resume">
            {pending ? 'Resuming…' : 'Resume subscription'}
          </button>
        </div>
      )}
      {error && (
        <p role="alert" className="mt-3 text-sm text-rose-700">
          {error}
        </p>
      )}

      <div className="mt-5 flex flex-col gap-4 border-t border-slate-100 pt-5 sm:flex-row sm:items-end sm:justify-between">
        {plan.seats ? (
          <form
            className="flex flex-wrap items-end gap-2"
            onSubmit={(e) => {
              e.preventDefault();
              if (seats !== sub.quantity) onSeats(seats);
            }}
          >
            <div>
              <label htmlFor="seats" className="mb-1 block text-xs font-medium text-slate-600">
                Seats{plan.seats.limit !== null ? ` (at most ${plan.seats.limit})` : ''}
              </label>
              <div className="flex items-center">
                <button type="button" className={`${buttonSecondary} rounded-r-none px-3`} aria-label="One seat fewer" onClick={() => setSeats((n) => Math.max(1, n - 1))} {...dis} disabled={readOnly || seats <= 1}>
                  −
                </button>
                <input
                  id="seats"
                  type="number"
                  inputMode="numeric"
                  min={1}
                  max={max}
                  value={seats}
                  onChange={(e) => setSeats(Math.min(max, Math.max(1, Math.trunc(Number(e.target.value) || 1))))}
                  className="w-20 border-y border-slate-300 px-2 py-2 text-center text-sm tabular-nums focus:outline-2 focus:outline-indigo-600 disabled:bg-slate-50"
                  {...dis}
                />
                <button type="button" className={`${buttonSecondary} rounded-l-none px-3`} aria-label="One seat more" onClick={() => setSeats((n) => Math.min(max, n + 1))} {...dis} disabled={readOnly || seats >= max}>
                  +
                </button>
              </div>
            </div>
            <button type="submit" className={buttonSecondary} disabled={readOnly || seats === sub.quantity} aria-describedby={readOnly ? noteId : undefined} data-testid="review-seats">
              Review seat change
            </button>
          </form>
        ) : (
          <p className="text-sm text-slate-600">This plan has no per-seat pricing.</p>
        )}
        {!sub.cancelAtPeriodEnd && (
          <button type="button" onClick={onCancel} className={`${buttonSecondary} text-rose-700`} {...dis} data-testid="open-cancel">
            Cancel subscription
          </button>
        )}
      </div>
    </Card>
  );
}

function PlanTile({
  plan,
  sub,
  current,
  preselected,
  readOnly,
  noteId,
  busy,
  onSubscribe,
  onChange,
}: {
  plan: PlanCardData;
  sub: SubscriptionData | null;
  current: PlanCardData | null;
  preselected: boolean;
  readOnly: boolean;
  noteId: string;
  busy: boolean;
  onSubscribe: () => void;
  onChange: () => void;
}) {
  const button = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    // Arriving from the public /plans (?subscribe=<key>): that plan's button has the focus.
    if (preselected) {
      button.current?.focus();
      button.current?.scrollIntoView({ block: 'center' });
    }
  }, [preselected]);
  const titleId = `plan-${plan.key}`;
  const action = plan.current
    ? null
    : !sub
      ? plan.trialDays > 0
        ? `Start ${plan.trialDays}-day trial`
        : 'Subscribe'
      : current && plan.basePrice >= current.basePrice
        ? `Upgrade to ${plan.name}`
        : `Downgrade to ${plan.name}`;

  return (
    <li
      aria-labelledby={titleId}
      data-testid={`plan-${plan.key}`}
      className={`relative flex flex-col rounded-2xl border bg-white p-5 shadow-sm sm:p-6 ${
        plan.current ? 'border-indigo-600 ring-1 ring-indigo-600' : preselected ? 'border-indigo-400 ring-2 ring-indigo-200' : 'border-slate-200'
      }`}
    >
      <div className="flex items-start justify-between gap-2">
        <h3 id={titleId} className="text-base font-semibold text-slate-900">
          {plan.name}
        </h3>
        {plan.current && <span className="rounded-full bg-indigo-600 px-2 py-0.5 text-xs font-semibold text-white">Current plan</span>}
        {plan.scheduled && <span className="rounded-full bg-indigo-50 px-2 py-0.5 text-xs font-semibold text-indigo-800 ring-1 ring-indigo-200 ring-inset">Next period</span>}
      </div>
      {plan.description && <p className="mt-1 text-sm text-slate-600">{plan.description}</p>}
      <p className="mt-4 flex items-baseline gap-1">
        <Money amount={plan.basePrice} currency={plan.currency} className="text-3xl font-semibold tracking-tight text-slate-900" />
        <span className="text-sm text-slate-600">{intervalText(plan.interval)}</span>
      </p>
      {/* A trial is for a first subscription only: a plan change has none. */}
      {!sub && <p className="mt-1 h-5 text-xs text-slate-600">{plan.trialDays > 0 ? `${plan.trialDays}-day free trial` : 'No trial'}</p>}
      <ul className="mt-4 flex-1 space-y-2 text-sm" aria-label={`${plan.name} features`}>
        {plan.features.map((f) => (
          <li key={f.key} className="flex gap-2">
            {f.included ? (
              <svg viewBox="0 0 20 20" className="mt-0.5 size-4 shrink-0 text-indigo-600" fill="currentColor" aria-hidden="true">
                <path fillRule="evenodd" d="M16.7 5.3a1 1 0 0 1 0 1.4l-8 8a1 1 0 0 1-1.4 0l-4-4a1 1 0 1 1 1.4-1.4L8 12.6l7.3-7.3a1 1 0 0 1 1.4 0Z" clipRule="evenodd" />
              </svg>
            ) : (
              <svg viewBox="0 0 20 20" className="mt-0.5 size-4 shrink-0 text-slate-400" fill="currentColor" aria-hidden="true">
                <path d="M5 9.25h10v1.5H5z" />
              </svg>
            )}
            <span className={f.included ? 'text-slate-700' : 'text-slate-500'}>
              <span className="font-medium text-slate-900">{f.name}</span>
              {f.kind === 'boolean' ? <span className="sr-only">: {f.text}</span> : <>: {f.text}</>}
              {f.kind === 'boolean' && !f.included && <span aria-hidden="true"> (not included)</span>}
            </span>
          </li>
        ))}
      </ul>
      <div className="mt-6">
        {action ? (
          <button
            ref={button}
            type="button"
            onClick={sub ? onChange : onSubscribe}
            className={`w-full ${plan.current || !sub || (current && plan.basePrice >= current.basePrice) ? buttonPrimary : buttonSecondary}`}
            disabled={readOnly || busy}
            aria-describedby={readOnly ? noteId : undefined}
            data-testid={`choose-${plan.key}`}
          >
            {action}
          </button>
        ) : (
          <p className="rounded-lg bg-indigo-50 py-2 text-center text-sm font-medium text-indigo-800">Your current plan</p>
        )}
      </div>
    </li>
  );
}

function CouponForm({ current, onDone }: { current: string | null; onDone: (m: string) => void }) {
  const trpc = useTRPC();
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const apply = useMutation(trpc.accountPlans.applyCoupon.mutationOptions({ onError: (e) => setError(errorMessageOf(e)) }));
  const pending = apply.isPending;
  return (
    <Card title="Coupon" titleId="coupon-title">
      <form
        className="flex flex-col gap-2 sm:flex-row sm:items-end"
        onSubmit={(e) => {
          e.preventDefault();
          if (!code.trim()) return setError('Enter a coupon code.');
          apply.mutate(
            { code },
            {
              onSuccess: (r) => {
                setError(null);
                setCode('');
                onDone(`Coupon ${r.coupon ?? code} applied to your subscription.`);
              },
            },
          );
        }}
      >
        <div className="flex-1 sm:max-w-xs">
          <label htmlFor="coupon-code" className="mb-1 block text-xs font-medium text-slate-600">
            {current ? `Replace coupon ${current} with` : 'Coupon code'}
          </label>
          <input id="coupon-code" value={code} onChange={(e) => setCode(e.target.value)} autoComplete="off" spellCheck={false} className={input} aria-invalid={error ? true : undefined} aria-describedby={error ? 'coupon-error' : undefined} />
        </div>
        <button type="submit" className={buttonSecondary} disabled={pending}>
          {pending ? 'Applying…' : 'Apply coupon'}
        </button>
      </form>
      {error && (
        <p id="coupon-error" role="alert" className="mt-2 text-sm text-rose-700">
          {error}
        </p>
      )}
      <p className="mt-2 text-xs text-slate-600">
        A coupon takes money off your next invoices. <span className="sr-only">It does not change invoices already issued.</span>
        <a href="/portal/invoices" className={`${textLink} ml-1`}>See invoices</a>
      </p>
    </Card>
  );
}
