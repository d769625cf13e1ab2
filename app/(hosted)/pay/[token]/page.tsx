import type { Metadata } from 'next';
import type { Invoice, Payment, PaymentMethod } from '@/server/ledger';
import { payInvoice } from '../../actions';
import { amountText, brandText, cardText, dateText, expiryText, localPath, periodText } from '../../format';
import { loadInvoice } from '../../load';
import { safeReturnPath } from '../../return-path';
import { PayForms } from '../../pay-forms';
import { Shell, StatusBadge } from '../../shell';
import { TestCardList } from '../../test-cards';

export const dynamic = 'force-dynamic';

type Props = { params: Promise<{ token: string }>; searchParams: Promise<{ return?: string | string[] }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { view } = await loadInvoice((await params).token);
  return { title: `Invoice ${view.invoice.number ?? ''} · ${view.merchantName}` };
}

/**
 * The hosted invoice page (Stripe's hosted invoice page): what is asked and by whom on
 * one side, how to pay on the other; a receipt once paid. The signed token is the only
 * authority: no sign-in. `?return=` (a path of this app only, see return-path.ts) adds a
 * link back to where the customer came from, the portal's invoice, before and after paying.
 */
export default async function PayPage({ params, searchParams }: Props) {
  const { token } = await params;
  const returnTo = safeReturnPath((await searchParams).return);
  const { view, testMode } = await loadInvoice(token);
  const { invoice, merchantName, lastPayment } = view;
  const dueAt = (invoice as Invoice & { dueAt?: Date | null }).dueAt ?? null;
  const period = periodOf(invoice);
  const amount = amountText(invoice.status === 'paid' ? paidAmount(invoice, lastPayment) : invoice.amountDue, invoice.currency);

  return (
    <Shell merchant={merchantName} testMode={testMode} back={returnTo}>
      <div className="invoice-layout">
        <section className="panel summary" aria-labelledby="invoice-title">
          <div className="summary-head">
            <p className="eyebrow" id="invoice-title">
              Invoice {invoice.number}
            </p>
            <StatusBadge status={invoice.status} />
          </div>
          <h1 className="amount">{amount}</h1>
          <p className="due">
            {invoice.status === 'paid' && invoice.paidAt
              ? `Paid on ${dateText(invoice.paidAt)}`
              : invoice.status === 'void'
                ? 'Voided: nothing is due'
                : dueAt
                  ? `Due ${dateText(dueAt)}`
                  : `Issued ${dateText(invoice.finalizedAt ?? invoice.issueAt)}`}
          </p>
        </section>

        <section className="panel payment" aria-labelledby="payment-title">
          <PaymentPanel view={view} amount={amount} token={token} returnTo={returnTo} />
        </section>

        <section className="panel details" aria-label="Invoice details">
          <dl className="facts">
            <div>
              <dt>To</dt>
              <dd>
                {view.customer.name || view.customer.email}
                {view.customer.name && <span className="muted block">{view.customer.email}</span>}
              </dd>
            </div>
            <div>
              <dt>From</dt>
              <dd>{merchantName}</dd>
            </div>
            {period && (
              <div>
                <dt>Period</dt>
                <dd>{periodText(period.start, period.end)}</dd>
              </div>
            )}
          </dl>
          <Lines invoice={invoice} payment={lastPayment} />
        </section>
      </div>
    </Shell>
  );
}

function PaymentPanel({ view, amount, token, returnTo }: { view: Awaited<ReturnType<typeof loadInvoice>>['view']; amount: string; token: string; returnTo: string | null }) {
  const { invoice, lastPayment, methods } = view;
  if (invoice.status === 'paid') return <Receipt invoice={invoice} payment={lastPayment?.status === 'succeeded' ? lastPayment : null} methods={methods} merchant={view.merchantName} amount={amount} />;
  if (invoice.status === 'void') {
    return (
      <>
        <h2 id="payment-title" className="section-title">
          Nothing to pay
        </h2>
        <p className="muted">{view.merchantName} voided this invoice. You don&apos;t need to do anything.</p>
      </>
    );
  }
  const cards = methods.map((m) => ({ id: m.id, label: cardText(m), expiry: expiryText(m), isDefault: m.isDefault }));
  const newCard = view.provider === 'sandbox';
  return (
    <>
      <h2 id="payment-title" className="visually-hidden">
        Payment
      </h2>
      {lastPayment?.status === 'requires_action' && view.confirmUrl && (
        <div className="alert alert-info" role="status">
          Your bank asks you to confirm your last payment of {amountText(lastPayment.amount, lastPayment.currency)}.{' '}
          <a href={view.confirmUrl.startsWith('http') && !view.confirmUrl.includes('/sandbox/confirm/') ? view.confirmUrl : localPath(view.confirmUrl)}>Confirm the payment</a>
        </div>
      )}
      {lastPayment?.status === 'failed' && (
        <div className="alert alert-warning" role="status">
          The last attempt to pay this invoice failed: {lastPayment.failureMessage ?? 'the payment failed.'}
        </div>
      )}
      {cards.length === 0 && !newCard ? (
        <p className="muted">No card is saved for you yet. Ask {view.merchantName} for a link to add one.</p>
      ) : (
        <PayForms action={payInvoice.bind(null, token, returnTo)} amount={amount} cards={cards} newCard={newCard} />
      )}
      {newCard && <TestCards />}
    </>
  );
}

function Receipt({ invoice, payment, methods, merchant, amount }: { invoice: Invoice; payment: Payment | null; methods: PaymentMethod[]; merchant: string; amount: string }) {
  const method = payment?.paymentMethodId ? methods.find((m) => m.id === payment.paymentMethodId) : undefined;
  return (
    <div className="receipt">
      <svg className="state-icon state-icon-success" viewBox="0 0 24 24" width="48" height="48" aria-hidden="true" focusable="false">
        <circle cx="12" cy="12" r="12" fill="currentColor" />
        <path d="M7 12.5l3.2 3.2L17 9" fill="none" stroke="#fff" strokeWidth="2.2" strokeLinecap="round" strokeLinejoin="round" />
      </svg>
      <h2 id="payment-title" className="section-title">
        Payment received
      </h2>
      <p>
        {merchant} received {amount}
        {invoice.paidAt ? ` on ${dateText(invoice.paidAt)}` : ''}. Thank you.
      </p>
      <dl className="facts">
        <div>
          <dt>Invoice</dt>
          <dd>{invoice.number}</dd>
        </div>
        {method && (
          <div>
            <dt>Paid with</dt>
            <dd>
              {brandText(method.brand)} •••• {method.last4}
            </dd>
          </div>
        )}
        {payment && (
          <div>
            <dt>Payment</dt>
            <dd className="mono">{payment.id}</dd>
          </div>
        )}
      </dl>
    </div>
  );
}

function Lines({ invoice, payment }: { invoice: Invoice; payment: Payment | null }) {
  const cur = invoice.currency;
  const shown = invoice.lines.filter((l) => l.amount !== 0 || invoice.lines.length <= 3);
  return (
    <table className="lines">
      <caption className="visually-hidden">Invoice lines</caption>
      <thead>
        <tr>
          <th scope="col">Description</th>
          <th scope="col" className="num">
            Amount
          </th>
        </tr>
      </thead>
      <tbody>
        {shown.map((l) => (
          <tr key={l.id}>
            <td>
              {l.description}
              <span className="muted block line-meta">
                {l.periodEnd > l.periodStart ? periodText(l.periodStart, l.periodEnd) : null}
                {l.quantity !== '1' && l.quantity !== '0' ? ` · Qty ${Number(l.quantity).toLocaleString('en-US')}` : null}
              </span>
            </td>
            <td className="num">{amountText(l.amount, cur)}</td>
          </tr>
        ))}
      </tbody>
      <tfoot>
        {(invoice.discount !== 0 || invoice.tax !== 0) && (
          <tr>
            <th scope="row">Subtotal</th>
            <td className="num">{amountText(invoice.subtotal, cur)}</td>
          </tr>
        )}
        {invoice.discount !== 0 && (
          <tr>
            <th scope="row">Discount</th>
            <td className="num">−{amountText(invoice.discount, cur)}</td>
          </tr>
        )}
        {invoice.tax !== 0 && (
          <tr>
            <th scope="row">{invoice.taxRate ? `${invoice.taxRate.displayName} (${invoice.taxRate.percentage}%)` : 'Tax'}</th>
            <td className="num">{amountText(invoice.tax, cur)}</td>
          </tr>
        )}
        <tr className="total">
          <th scope="row">Total</th>
          <td className="num">{amountText(invoice.total, cur)}</td>
        </tr>
        {invoice.creditApplied !== 0 && (
          <tr>
            <th scope="row">Credit applied</th>
            <td className="num">−{amountText(invoice.creditApplied, cur)}</td>
          </tr>
        )}
        {invoice.credited !== 0 && (
          <tr>
            <th scope="row">Credit notes</th>
            <td className="num">−{amountText(invoice.credited, cur)}</td>
          </tr>
        )}
        <tr className="due-row">
          <th scope="row">{invoice.status === 'paid' ? 'Amount paid' : 'Amount due'}</th>
          <td className="num">{amountText(invoice.status === 'paid' ? paidAmount(invoice, payment) : invoice.amountDue, cur)}</td>
        </tr>
      </tfoot>
    </table>
  );
}

/** The span the invoice's lines bill (an invoice in advance bills the coming period); null when they bill no span. */
function periodOf(invoice: Invoice): { start: Date; end: Date } | null {
  if (invoice.lines.length === 0) return invoice.periodEnd > invoice.periodStart ? { start: invoice.periodStart, end: invoice.periodEnd } : null;
  const start = new Date(Math.min(...invoice.lines.map((l) => l.periodStart.getTime())));
  const end = new Date(Math.max(...invoice.lines.map((l) => l.periodEnd.getTime())));
  return end > start ? { start, end } : null;
}

/** What a paid invoice's customer paid: its succeeded payment's amount, else the total less credits (nothing was due). */
function paidAmount(invoice: Invoice, payment: Payment | null): number {
  if (payment?.status === 'succeeded') return payment.amount;
  return Math.max(0, invoice.total - invoice.creditApplied - invoice.credited);
}

function TestCards() {
  return (
    <details className="test-cards">
      <summary>Test card numbers</summary>
      <TestCardList />
    </details>
  );
}
