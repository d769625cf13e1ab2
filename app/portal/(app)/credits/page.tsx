import { randomUUID } from 'node:crypto';
import Link from 'next/link';
import { buttonPrimary, textLink } from '../../_components/buttons';
import { AlertBanner } from '../../_components/alert-banner';
import { Card } from '../../_components/card';
import { DateTime } from '../../_components/date-time';
import { Money } from '../../_components/money';
import { EmptyState } from '../../_components/states';
import { StatusBadge } from '../../_components/status-badge';
import type { Tone } from '@/server/portal/views/status';
import { creditsApi, type CreditsOverview } from './credits-api';
import { TopUpForm } from './top-up-form';

export const metadata = { title: 'Credits' };

/** Each movement of the ledger as a word and a tone (never the colour alone). */
const ENTRY_WORDS: Record<CreditsOverview['entries'][number]['type'], { label: string; tone: Tone }> = {
  top_up: { label: 'Bought', tone: 'success' },
  grant: { label: 'Granted', tone: 'info' },
  use: { label: 'Used', tone: 'neutral' },
  expiry: { label: 'Expired', tone: 'warning' },
  reversal: { label: 'Refunded', tone: 'neutral' },
  restore: { label: 'Given back', tone: 'info' },
};

/** Credits are minor units: a signed amount of money, "+$25.00" / "−$12.40". */
function Signed({ amount, currency }: { amount: number; currency: string }) {
  return (
    <span className={`tabular-nums font-medium ${amount > 0 ? 'text-emerald-800' : 'text-slate-900'}`}>
      {amount > 0 ? '+' : '−'}
      <Money amount={Math.abs(amount)} currency={currency} />
    </span>
  );
}

type Entries = Pick<CreditsOverview, 'entries' | 'nextCursor' | 'currency'>;

function Activity({ o, older }: { o: Entries; older: boolean }) {
  if (o.entries.length === 0 && !older) {
    return (
      <EmptyState title="No credit activity yet">
        Credits you buy or are given show here, and so does every invoice they pay.
      </EmptyState>
    );
  }
  return (
    <ul className="divide-y divide-slate-100" data-testid="credit-ledger">
      {o.entries.map((e) => {
        const w = ENTRY_WORDS[e.type];
        return (
          <li key={e.id} className="flex items-start justify-between gap-4 px-5 py-3.5 sm:px-6" data-testid="ledger-row">
            <div className="min-w-0">
              <div className="flex flex-wrap items-center gap-2">
                <StatusBadge status={w} />
                {e.invoiceId ? (
                  <Link href={`/portal/invoices/${e.invoiceId}`} className={`truncate text-sm ${textLink}`}>
                    {e.description}
                  </Link>
                ) : (
                  <span className="truncate text-sm text-slate-900">{e.description}</span>
                )}
              </div>
              <p className="mt-1 text-xs text-slate-500">
                <DateTime value={e.createdAt} style="datetime" />
              </p>
            </div>
            <div className="shrink-0 text-right text-sm">
              <Signed amount={e.amount} currency={o.currency} />
              <p className="mt-1 text-xs text-slate-500">
                Balance <Money amount={e.balanceAfter} currency={o.currency} />
              </p>
            </div>
          </li>
        );
      })}
      {(o.nextCursor || older) && (
        <li className="flex justify-between gap-4 px-5 py-3 text-sm sm:px-6">
          {older ? (
            <Link href="/portal/credits" className={textLink}>
              Latest activity
            </Link>
          ) : (
            <span />
          )}
          {o.nextCursor && (
            <Link href={`/portal/credits?before=${encodeURIComponent(o.nextCursor)}`} className={textLink} data-testid="older-activity">
              Older activity
            </Link>
          )}
        </li>
      )}
    </ul>
  );
}

/**
 * /portal/credits: the prepaid credit balance, what it is made of (each grant, its expiry,
 * the features it is for), every movement of it, and buying more. `?topup=paid`: back from
 * a top-up charged to the default card (or paid on the hosted page).
 */
export default async function CreditsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const q = await searchParams;
  const api = await creditsApi();
  const o = await api.overview();
  // ?before=<entry id>: an older page of the activity (the cursor is only compared with this customer's entries).
  const before = typeof q.before === 'string' && /^wle_[0-9a-z]{26}$/.test(q.before) ? q.before : null;
  const activity: Entries = before ? { ...(await api.ledger({ cursor: before })), currency: o.currency } : o;
  const cur = o.currency;
  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight text-slate-900">Credits</h1>
        <p className="mt-1 text-sm text-slate-600">Prepaid credits pay your invoices before your card is charged.</p>
      </div>
      {q.topup === 'paid' && (
        <div role="status" data-testid="top-up-notice">
          <AlertBanner tone="info" title="Credits added">
            Your payment went through and the credits are in your balance.
          </AlertBanner>
        </div>
      )}
      {o.pendingTopUps.map((p) => (
        <AlertBanner
          key={p.id}
          tone="warning"
          title="A top-up is waiting for payment"
          action={
            p.payUrl && (
              <a href={p.payUrl} className={buttonPrimary}>
                Pay <Money amount={p.amountDue} currency={cur} />
              </a>
            )
          }
        >
          Invoice {p.number} for <Money amount={p.amountDue} currency={cur} />: its credits are added once it is paid.
        </AlertBanner>
      ))}
      {/* Phones: the balance, buying, then the activity; wide screens: buying beside both. */}
      <div className="grid items-start gap-6 lg:grid-cols-5">
        <Card title="Credit balance" titleId="balance-title" className="lg:col-span-3">
          <p className="text-4xl font-semibold tracking-tight text-slate-900" data-testid="credit-balance">
            <Money amount={o.balance} currency={cur} />
          </p>
          <p className="mt-1 text-sm text-slate-600">
            {o.balance.toLocaleString('en-US')} credits · used automatically on your next invoices in {cur}
          </p>
          {o.grants.length > 0 && (
            <ul className="mt-5 divide-y divide-slate-100 border-t border-slate-100" aria-label="Credits in your balance" data-testid="credit-grants">
              {o.grants.map((g) => (
                <li key={g.id} className="flex items-start justify-between gap-4 py-3">
                  <div className="min-w-0">
                    <p className="truncate text-sm font-medium text-slate-900">{g.description}</p>
                    <p className="mt-0.5 text-xs text-slate-500">
                      {g.expiresAt ? (
                        <>
                          Expires <DateTime value={g.expiresAt} />
                        </>
                      ) : (
                        'Never expires'
                      )}
                      {g.featureKeys && ` · for ${g.featureKeys.join(', ')} only`}
                    </p>
                  </div>
                  <p className="shrink-0 text-right text-sm text-slate-900">
                    <Money amount={g.remaining} currency={cur} />
                    {g.remaining !== g.amount && (
                      <span className="block text-xs text-slate-500">
                        of <Money amount={g.amount} currency={cur} />
                      </span>
                    )}
                  </p>
                </li>
              ))}
            </ul>
          )}
        </Card>
        <Card title="Buy credits" titleId="buy-title" className="lg:col-span-2 lg:row-span-2">
          {o.canManageBilling ? (
            <TopUpForm currency={cur} hasCard={o.hasDefaultCard} requestKey={randomUUID()} />
          ) : (
            <p className="text-sm text-slate-600">Buying credits needs billing rights: ask an owner or a billing user.</p>
          )}
        </Card>
        <Card title="Activity" titleId="activity-title" padded={false} className="lg:col-span-3">
          <Activity o={activity} older={before !== null} />
        </Card>
      </div>
    </div>
  );
}
