import { AlertBanner } from '../../_components/alert-banner';
import { Card, Field } from '../../_components/card';
import { billingApi } from './billing-api';
import { DetailsForm } from './details-form';
import { MethodsList } from './methods-list';
import type { BillingDetails } from './types';

export const metadata = { title: 'Billing details' };

const TAX_WORDS = { taxable: 'Taxed by country and region', exempt: 'Tax exempt', reverse_charge: 'Reverse charge (you account for the tax)' } as const;

/** The details read-only, for a member. */
function DetailsView({ d }: { d: BillingDetails }) {
  const a = d.address;
  const dash = <span className="text-slate-400">Not set</span>;
  return (
    <dl className="grid gap-4 sm:grid-cols-2">
      <Field label="Name">{d.name}</Field>
      <Field label="Billing email">
        <span className="break-all">{d.email}</span>
      </Field>
      <Field label="Address">
        {a ? (
          <>
            {a.line1}
            {a.line2 && <br />}
            {a.line2}
            <br />
            {[a.postalCode, a.city, a.state].filter(Boolean).join(' ')}
          </>
        ) : (
          dash
        )}
      </Field>
      <Field label="Country and region">{d.country ? [d.country, d.region].filter(Boolean).join(' · ') : dash}</Field>
      <Field label="Tax ID">{d.taxId ?? dash}</Field>
      <Field label="Tax status">{TAX_WORDS[d.taxStatus]}</Field>
    </dl>
  );
}

/**
 * /portal/billing: the customer's billing details (as the next invoices will bill them;
 * issued invoices keep theirs) and saved cards. `?card=added` / `?card=canceled`: back
 * from the provider's hosted add-a-card page.
 */
export default async function BillingPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const q = await searchParams;
  const api = await billingApi();
  const [details, { methods, canManageBilling }] = await Promise.all([api.details(), api.methods()]);
  const card = q.card === 'added' || q.card === 'canceled' ? q.card : null;
  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight text-slate-900">Billing details</h1>
        <p className="mt-1 text-sm text-slate-600">Who your invoices are addressed to, and the cards they are paid with.</p>
      </div>
      {!canManageBilling && (
        <AlertBanner tone="info" title="You can view billing details but not change them">
          Editing details or cards needs billing rights: ask an owner or a billing user.
        </AlertBanner>
      )}
      {card === 'added' && (
        <div role="status" data-testid="card-notice">
          <AlertBanner tone="info" title="Card added">
            {methods.length === 0
              ? 'The provider is confirming your card: it appears here within a minute (reload the page).'
              : methods.some((m) => m.isDefault)
                ? 'Your new card is saved and is now your default.'
                : 'Your new card is saved.'}
          </AlertBanner>
        </div>
      )}
      {card === 'canceled' && (
        <div role="status" data-testid="card-notice">
          <AlertBanner tone="warning" title="No card was added">
            You left the card page before saving. Nothing was changed.
          </AlertBanner>
        </div>
      )}
      <div className="grid items-start gap-6 lg:grid-cols-5">
        <Card title="Billing details" titleId="details-title" className="lg:col-span-3">
          {canManageBilling ? <DetailsForm details={details} /> : <DetailsView d={details} />}
          {!canManageBilling && <p className="mt-4 text-xs text-slate-500">Invoices already issued keep the details they were issued with.</p>}
        </Card>
        <Card title="Payment methods" titleId="methods-title" className="lg:col-span-2">
          <MethodsList methods={methods} canManage={canManageBilling} />
        </Card>
      </div>
    </div>
  );
}
