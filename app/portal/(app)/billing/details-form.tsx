'use client';

import { useActionState, useEffect, useId, useRef } from 'react';
import { buttonPrimary } from '../../_components/buttons';
import { updateDetails, type DetailsState } from './actions';
import type { BillingDetails } from './types';

const input =
  'mt-1 block w-full rounded-lg border-0 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm ring-1 ring-inset ring-slate-300 placeholder:text-slate-400 focus:ring-2 focus:ring-inset focus:ring-indigo-600 aria-[invalid=true]:ring-rose-500';

function Input({ name, label, value, hint, errors, autoComplete, className = '', maxLength, type = 'text', required = false }: {
  name: string;
  label: string;
  value: string | null | undefined;
  hint?: string;
  errors: Record<string, string>;
  autoComplete?: string;
  className?: string;
  maxLength?: number;
  type?: string;
  required?: boolean;
}) {
  const id = useId();
  const error = errors[name];
  const described = [hint ? `${id}-hint` : null, error ? `${id}-error` : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className={className}>
      <label htmlFor={id} className="block text-sm font-medium text-slate-800">
        {label}
        {!required && <span className="font-normal text-slate-500"> (optional)</span>}
      </label>
      <input
        id={id}
        name={name}
        type={type}
        defaultValue={value ?? ''}
        autoComplete={autoComplete}
        maxLength={maxLength}
        required={required}
        aria-invalid={error ? true : undefined}
        aria-describedby={described}
        className={input}
      />
      {hint && (
        <p id={`${id}-hint`} className="mt-1 text-xs text-slate-500">
          {hint}
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="mt-1 text-sm text-rose-700" data-testid={`error-${name}`}>
          {error}
        </p>
      )}
    </div>
  );
}

/**
 * The billing details form: the customer as their next invoices will bill them. Errors
 * are shown at their field (which gets the focus) and announced; success is a notice.
 */
export function DetailsForm({ details }: { details: BillingDetails }) {
  const [state, action, pending] = useActionState<DetailsState, FormData>(updateDetails, { ok: true, message: null, fields: {}, values: null, at: 0 });
  const form = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (!state.at || state.ok) return;
    form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [state]);
  const a = details.address;
  const e = state.fields;
  // After a submit, the values sent (the form is reset to its defaults after the action).
  const val = (name: string, saved: string | null | undefined) => (state.values ? state.values[name] : saved);
  return (
    <form ref={form} action={action} noValidate className="space-y-5" aria-describedby="details-note">
      <div role="status" aria-live="polite" className="empty:hidden" data-testid="details-notice">
        {state.message && (
          <p className={`rounded-lg border px-3 py-2 text-sm ${state.ok ? 'border-emerald-200 bg-emerald-50 text-emerald-900' : 'border-rose-200 bg-rose-50 text-rose-900'}`}>{state.message}</p>
        )}
      </div>
      <div className="grid gap-4 sm:grid-cols-2">
        <Input name="name" label="Name" value={val('name', details.name)} errors={e} autoComplete="organization" maxLength={200} required />
        <Input name="email" label="Billing email" type="email" value={val('email', details.email)} errors={e} autoComplete="email" maxLength={254} required hint="Invoices and receipts are sent here." />
      </div>
      <fieldset className="space-y-4">
        <legend className="text-sm font-semibold text-slate-900">Address</legend>
        <Input name="address.line1" label="Address line 1" value={val('address.line1', a?.line1)} errors={e} autoComplete="address-line1" maxLength={200} />
        <Input name="address.line2" label="Address line 2" value={val('address.line2', a?.line2)} errors={e} autoComplete="address-line2" maxLength={200} />
        <div className="grid gap-4 sm:grid-cols-3">
          <Input name="address.city" label="City" value={val('address.city', a?.city)} errors={e} autoComplete="address-level2" maxLength={100} />
          <Input name="address.postalCode" label="Postal code" value={val('address.postalCode', a?.postalCode)} errors={e} autoComplete="postal-code" maxLength={20} />
          <Input name="address.state" label="State" value={val('address.state', a?.state)} errors={e} autoComplete="address-level1" maxLength={100} />
        </div>
      </fieldset>
      <div className="grid gap-4 sm:grid-cols-3">
        <Input name="country" label="Country" value={val('country', details.country)} errors={e} autoComplete="country" hint="Two letters: US, DE, FR…" />
        <Input name="region" label="Tax region" value={val('region', details.region)} errors={e} maxLength={100} hint="A state or province, for tax: CA, ON…" />
        <Input name="taxId" label="Tax ID" value={val('taxId', details.taxId)} errors={e} maxLength={50} hint="A VAT or GST number, printed on invoices." />
      </div>
      <div className="flex flex-col-reverse gap-3 border-t border-slate-100 pt-4 sm:flex-row sm:items-center sm:justify-between">
        <p id="details-note" className="text-xs text-slate-500">
          Changes apply to your next invoices. Invoices already issued keep the details they were issued with.
        </p>
        <button type="submit" className={`${buttonPrimary} shrink-0`} disabled={pending}>
          {pending ? 'Saving…' : 'Save details'}
        </button>
      </div>
    </form>
  );
}
