import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import type { Invoice, InvoiceLine, Ledger, Scope, Subscription, UsageSeries } from '../../ledger';
import type { PortalContext } from '../../portal/session';
import { choosePeriod, usagePeriods, usagePeriodView, type UsagePeriodChoice, type UsagePeriodView } from '../../portal/views/usage';
import { portalProcedure, router } from '../init';
import { pricesIn } from '../../ledger/plan/currency-prices';

/**
 * The /portal/usage page's reads, mounted as `accountUsage`: the periods the customer
 * can look at, and one period's usage per feature (used, included, limit, the daily
 * series, the cost so far). Scope and customer come from the session (ctx.portal) only;
 * a period is named by its start and must be one of the customer's own, else NOT_FOUND.
 */

/** Every invoice of the customer (one per period: a few hundred at most), capped against a runaway list. */
const MAX_INVOICES = 5_000;
async function customerInvoices(ledger: Ledger, scope: Scope, customerId: string): Promise<Invoice[]> {
  const all: Invoice[] = [];
  let cursor: string | undefined;
  do {
    const page = await ledger.invoices.listByCustomer(scope, customerId, { limit: 100, ...(cursor ? { cursor } : {}) });
    all.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && all.length < MAX_INVOICES);
  return all;
}

interface CustomerBilling {
  subs: Subscription[];
  live: Subscription | null;
  invoices: Invoice[];
  choices: UsagePeriodChoice[];
}

async function customerBilling(ledger: Ledger, portal: PortalContext): Promise<CustomerBilling> {
  const [{ items: subs }, invoices] = await Promise.all([
    ledger.subscriptions.listByCustomer(portal.scope, portal.customerId, { limit: 100 }),
    customerInvoices(ledger, portal.scope, portal.customerId),
  ]);
  // The live subscription, as the plans page picks it: the newest not canceled.
  const live = subs.filter((s) => s.status !== 'canceled').sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0] ?? null;
  return { subs, live, invoices, choices: usagePeriods({ live, invoices }) };
}

/** A period as the chooser lists it (no plan ids or prices: the page needs none). */
const choiceView = (c: UsagePeriodChoice) => ({ key: c.key, start: c.start, end: c.end, current: c.current, trial: c.trial, invoiceNumber: c.invoice?.number ?? null });
export type UsagePeriodOption = ReturnType<typeof choiceView>;

/**
 * The usage lines that price a period: for the current one, those of invoices already
 * made inside it (a mid-period change bills the usage until then) and the upcoming
 * invoice's usage so far, computed as the period end will (the same basis, nothing
 * stored); for an ended one, its invoice's.
 */
async function pricingLines(ledger: Ledger, scope: Scope, b: CustomerBilling, choice: UsagePeriodChoice, asOf: Date): Promise<InvoiceLine[]> {
  if (!choice.current || !b.live) return b.invoices.find((i) => i.id === choice.invoice?.id)?.lines ?? [];
  const sub = b.live;
  const earlier = b.invoices
    .filter((i) => i.subscriptionId === sub.id && i.status !== 'void' && i.basis.usage && i.periodStart >= choice.start && i.periodEnd <= sub.unbilledFrom && i.periodStart < i.periodEnd)
    .flatMap((i) => i.lines);
  if (choice.trial || !(sub.unbilledFrom < asOf)) return earlier;
  const plan = pricesIn(await ledger.plans.get(scope, sub.planId), sub.currency);
  const upcoming = await ledger.invoices.compute(
    scope,
    sub.customerId,
    plan.currency,
    { advance: null, usage: { planId: sub.planId, overrides: sub.priceOverrides, start: sub.unbilledFrom, end: asOf, trial: false }, prorations: [], couponId: null },
    sub.currentPeriodEnd,
  );
  return [...earlier, ...upcoming.lines];
}

/** The seats of a period: the live subscription's now; for an ended period, its invoice's seat line, else the subscription's. */
function seatsOf(b: CustomerBilling, choice: UsagePeriodChoice): number {
  const sub = b.subs.find((s) => s.id === choice.subscriptionId);
  if (choice.current) return sub?.quantity ?? 1;
  const line = b.invoices
    .filter((i) => i.subscriptionId === choice.subscriptionId && i.status !== 'void')
    .flatMap((i) => i.lines)
    .find((l) => l.kind === 'license' && l.periodStart.getTime() === choice.start.getTime());
  return line ? Number(line.quantity) : (sub?.quantity ?? 1);
}

const periodInput = z
  .object({
    /** The period's start, ISO 8601, as `periods` lists it (`key`); omitted: the newest. */
    start: z.string().max(40).optional(),
  })
  .strict()
  .default({});

export const accountUsageRouter = router({
  /** The periods to choose from, newest first: the current one of the live subscription, then each billed one. */
  periods: portalProcedure.query(async ({ ctx }) => (await customerBilling(ctx.ledger, ctx.portal)).choices.map(choiceView)),

  /**
   * One period's usage (the newest when `start` is omitted): per metered feature used,
   * included, limit, percent, the daily series and the cost so far at the subscription's
   * prices; the seats; the on/off features; and the periods to choose from. `view` is
   * null when the customer has no period at all (never subscribed). A start that is not
   * one of the customer's periods is NOT_FOUND; one that is no date, BAD_REQUEST.
   */
  period: portalProcedure.input(periodInput).query(async ({ ctx, input }): Promise<{ periods: UsagePeriodOption[]; view: UsagePeriodView | null }> => {
    const { ledger, scope } = ctx;
    const customerId = ctx.portal.customerId;
    if (input.start !== undefined && Number.isNaN(Date.parse(input.start))) throw new TRPCError({ code: 'BAD_REQUEST', message: 'period: expected the start of a period as ISO 8601' });
    const b = await customerBilling(ledger, ctx.portal);
    const choice = choosePeriod(b.choices, input.start);
    const periods = b.choices.map(choiceView);
    if (!choice) {
      if (input.start !== undefined) throw new TRPCError({ code: 'NOT_FOUND', message: 'no such usage period' });
      return { periods, view: null };
    }

    const now = ledger.now(scope, customerId);
    // The current period is counted up to now; an ended one to its end.
    const asOf = choice.current ? new Date(Math.max(choice.start.getTime(), Math.min(now.getTime(), choice.end.getTime()))) : choice.end;
    const plan = pricesIn(await ledger.plans.get(scope, choice.planId), b.subs.find((s) => s.id === choice.subscriptionId)?.currency);
    const metered = plan.features.flatMap((f) => (f.kind === 'metered' ? [f] : []));
    const counted = choice.start < asOf;
    const [totals, series, lines] = await Promise.all([
      // Every feature's total in one round trip.
      counted
        ? ledger.store.usage.aggregateMany(
            scope,
            metered.map((f) => ({ customerId, featureKey: f.key, aggregation: f.aggregation, from: choice.start, to: asOf })),
          )
        : metered.map(() => '0'),
      Promise.all(
        metered.map(
          (f): Promise<UsageSeries> =>
            ledger.usage.series(scope, { customerId, featureKey: f.key, aggregation: f.aggregation, from: choice.start, to: choice.end, asOf }),
        ),
      ),
      pricingLines(ledger, scope, b, choice, asOf),
    ]);
    const view = usagePeriodView({
      choice,
      plan,
      asOf,
      quantity: seatsOf(b, choice),
      used: new Map(metered.map((f, i) => [f.key, totals[i] ?? '0'])),
      series: new Map(metered.map((f, i) => [f.key, series[i]!])),
      usageLines: lines,
    });
    return { periods, view };
  }),
});
