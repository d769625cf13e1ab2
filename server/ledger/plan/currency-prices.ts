import { invalid, type Currency, type FieldIssue } from '../types';
import type { CurrencyPriceSet, Feature, Plan, Price } from './types';

/**
 * Multi-currency. A plan has a main currency (`currency`, with `basePrice` and each
 * feature's `price`) and may be offered in more (`currencyPrices`, one set per currency:
 * the base fee and every priced feature's price, in that currency's minor units).
 * Everything else (features, included units, limits, interval, trial) is the plan's and
 * the same in every currency.
 *
 * A subscription has one currency, chosen when it is made (the customer's currency, or
 * the plan's main one), and every invoice of it is in that currency. Whatever prices a
 * subscription (invoices, previews, prorations, coupons, the portal) reads the plan
 * through `pricesIn(plan, currency)`: the one place that decides which prices apply.
 */

/** The currencies a plan is offered in: its main currency first, then the others as given. */
export function planCurrencies(plan: Pick<Plan, 'currency' | 'currencyPrices'>): Currency[] {
  return [plan.currency, ...(plan.currencyPrices ?? []).map((s) => s.currency)];
}

/** Whether the plan can be bought in `currency`. */
export function offersCurrency(plan: Pick<Plan, 'currency' | 'currencyPrices'>, currency: string): boolean {
  return planCurrencies(plan).includes(currency as Currency);
}

/**
 * The plan as priced in `currency`: the same plan with `currency`, `basePrice` and each
 * priced feature's `price` taken from that currency's set. The main currency (or none,
 * for a subscription stored before multi-currency) is the plan as it is. A currency the
 * plan is not offered in is `invalid`, naming the currencies it is offered in.
 */
export function pricesIn(plan: Plan, currency: Currency | string | null | undefined): Plan {
  if (currency === null || currency === undefined || currency === plan.currency) return plan;
  const set = (plan.currencyPrices ?? []).find((s) => s.currency === currency);
  if (!set) throw notOffered(plan, currency);
  // A commitment is an amount of one currency: in another, the set's (never the main one's number).
  const commitment = set.minimumCommitment ?? null;
  return {
    ...plan,
    currency: set.currency,
    basePrice: set.basePrice,
    ...(commitment !== null || (plan.minimumCommitment ?? null) !== null ? { minimumCommitment: commitment } : {}),
    features: plan.features.map((f) => (f.kind !== 'boolean' && f.price ? ({ ...f, price: set.features[f.key] ?? f.price } as Feature) : f)),
  };
}

/** The refusal of a plan in a currency it is not offered in. */
export function notOffered(plan: Pick<Plan, 'key' | 'currency' | 'currencyPrices'>, currency: string, path = 'currency') {
  const offered = planCurrencies(plan).join(', ');
  return invalid(`plan "${plan.key}" is not offered in ${currency}: it is offered in ${offered}`, [
    { path, message: `not offered in ${currency}; offered in ${offered}` },
  ]);
}

/** A plan's fields that the currency sets are checked against. */
type PricedPlan<F extends PlanFeature = PlanFeature> = Pick<Plan, 'currency' | 'currencyPrices' | 'minimumCommitment'> & { features: readonly F[] };
type PlanFeature = { key: string; kind: Feature['kind']; price?: Price };

/**
 * Checks a plan's currency sets against its main prices, and throws `invalid` naming
 * every problem (path `currencyPrices.<i>…`):
 * - each currency is offered once, and not the main currency again;
 * - each set prices every priced feature of the plan, and nothing else (a feature
 *   without a price in the main currency is free in every currency);
 * - each price has the main price's model and shape: the same tier bounds, package
 *   size or custom strategy, and a minimum (per charge, per transaction) where the main
 *   price has one; only the amounts differ;
 * - a plan with a minimum commitment states it in every currency (and one without, in none).
 * Amounts are whole minor units of their own currency (the schema refuses fractions):
 * 3000 JPY is 3000, 20.00 USD is 2000, 6.125 KWD is 6125. `checkPrices` (the plan
 * service's check of custom strategies' params) is run on each currency's prices.
 */
export function checkCurrencyPrices<F extends PlanFeature>(plan: PricedPlan<F>, checkPrices?: (features: F[]) => void): void {
  const issues: FieldIssue[] = [];
  const priced = plan.features.filter((f) => f.kind !== 'boolean' && f.price);
  const seen = new Set<string>([plan.currency]);
  (plan.currencyPrices ?? []).forEach((set, i) => {
    const at = `currencyPrices.${i}`;
    if (set.currency === plan.currency) issues.push({ path: `${at}.currency`, message: `${set.currency} is the plan's main currency: its prices are basePrice and each feature's price` });
    else if (seen.has(set.currency)) issues.push({ path: `${at}.currency`, message: `${set.currency} is priced twice` });
    seen.add(set.currency);
    for (const f of priced) {
      const price = Object.hasOwn(set.features, f.key) ? set.features[f.key] : undefined;
      if (!price) issues.push({ path: `${at}.features.${f.key}`, message: `feature "${f.key}" has a price and needs one in ${set.currency}` });
      else {
        const why = shapeDiffers(f.price!, price);
        if (why) issues.push({ path: `${at}.features.${f.key}`, message: `feature "${f.key}" in ${set.currency}: ${why}` });
      }
    }
    const committed = (plan.minimumCommitment ?? null) !== null;
    if (committed !== ((set.minimumCommitment ?? null) !== null)) {
      issues.push({
        path: `${at}.minimumCommitment`,
        message: committed ? `the plan has a minimum commitment and needs one in ${set.currency}` : `the plan has no minimum commitment in its main currency`,
      });
    }
    for (const key of Object.keys(set.features)) {
      if (!priced.some((f) => f.key === key)) issues.push({ path: `${at}.features.${key}`, message: `the plan has no priced feature "${key}"` });
    }
  });
  if (issues.length > 0) {
    const shown = issues.slice(0, 10).map((x) => `${x.path}: ${x.message}`).join('; ');
    throw invalid(`invalid currency prices: ${shown}${issues.length > 10 ? ` (and ${issues.length - 10} more)` : ''}`, issues);
  }
  // The plan's own checks of prices (a custom strategy's params) run on each currency's prices too.
  if (checkPrices) {
    for (const set of plan.currencyPrices ?? []) {
      checkPrices(plan.features.map((f) => (f.kind !== 'boolean' && f.price && set.features[f.key] ? { ...f, price: set.features[f.key] } : f)));
    }
  }
}

/** Why `other` is not the same kind of price as `main` (only its amounts may differ), or null. */
function shapeDiffers(main: Price, other: Price): string | null {
  if (main.model !== other.model) return `the price model is "${main.model}" in the main currency, not "${other.model}"`;
  // Unit tiers are counts of units, the same in every currency (a graduated percentage's
  // bounds are amounts of money, so they differ by currency).
  if ((main.model === 'graduated' || main.model === 'volume') && (other.model === 'graduated' || other.model === 'volume')) {
    const bounds = (p: { tiers: readonly { upTo: number | null }[] }) => p.tiers.map((t) => (t.upTo === null ? '∞' : String(t.upTo))).join(', ');
    if (bounds(main) !== bounds(other)) return `tiers up to ${bounds(other)}; the main currency's are up to ${bounds(main)}`;
  }
  if (main.model === 'package' && other.model === 'package' && main.size !== other.size) return `packages of ${other.size}; the main currency's are of ${main.size}`;
  if (main.model === 'custom' && other.model === 'custom' && main.strategy !== other.strategy) return `strategy "${other.strategy}"; the main currency's is "${main.strategy}"`;
  // A minimum per charge (or per transaction) is an amount: stated in every currency or in none.
  for (const key of ['minimum', 'minPerTransaction', 'maxPerTransaction'] as const) {
    const a = (main as Record<string, unknown>)[key] !== undefined;
    const b = (other as Record<string, unknown>)[key] !== undefined;
    if (a !== b) return a ? `the main currency's price has a ${key}: state it in this currency too` : `a ${key} the main currency's price does not have`;
  }
  return null;
}

/**
 * The currency a customer's new subscription to `plan` is in: the customer's currency,
 * or the plan's main currency when the customer has none. A plan not offered in the
 * customer's currency is refused (`invalid`), naming the currencies it is offered in.
 */
export function subscriptionCurrency(customer: { id: string; currency: Currency | null }, plan: Plan): Currency {
  const cur = customer.currency ?? plan.currency;
  if (!offersCurrency(plan, cur)) {
    const offered = planCurrencies(plan).join(', ');
    throw invalid(`plan "${plan.key}" is not offered in ${cur}, the currency of customer ${customer.id}: it is offered in ${offered}`, [
      { path: 'planId', message: `not offered in ${cur}; offered in ${offered}` },
    ]);
  }
  return cur;
}

/**
 * A pricing table for one customer: the plans offered in `currency`, each priced in it;
 * with no currency (a customer that has none yet), every plan in its main currency.
 */
export function plansIn(plans: readonly Plan[], currency: Currency | string | null | undefined): Plan[] {
  if (currency === null || currency === undefined) return [...plans];
  return plans.filter((p) => offersCurrency(p, currency)).map((p) => pricesIn(p, currency));
}
