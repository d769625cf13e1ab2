import type { Coupon } from '../coupon/types';
import type { Customer } from '../customer/types';
import type { Invoice, InvoiceLine } from '../invoice/types';
import type { UsageEvent } from '../meter/types';
import type { Feature, Plan } from '../plan/types';
import type { Currency, Dec, RoundingMode, Scope } from '../types';

/**
 * The engine's extension points (the seed's "swap any component"), each passed to
 * `createLedger`; the built-in is used where none is given. A payment provider is the
 * sixth: `createLedger({ providers, defaultPaymentProvider })` (payment/provider.ts).
 */

/**
 * A price model of your own, named by a feature's price `{ model: 'custom', strategy:
 * 'name', params }`. It prices the billable quantity (the measured one minus the
 * feature's included units, never below 0) and returns the exact amount in MAJOR units
 * as a decimal: the engine rounds it once, to the currency's minor unit (half away from
 * zero), as it does every built-in model.
 */
export interface PricingStrategy {
  price(input: {
    /** quantity − includedUnits, ≥ 0, exact. */
    billable: Dec;
    /** The quantity as measured (or the seats). */
    quantity: Dec;
    includedUnits: number;
    currency: Currency;
    /** The price's `params`, as the plan stores them. */
    params: Record<string, unknown>;
  }): Dec | string;
  /** Checks a plan's `params` when the plan is created or changed: throw (or return a message) to refuse. */
  validate?(params: Record<string, unknown>): string | null | void;
}
export type PricingStrategies = Readonly<Record<string, PricingStrategy>>;

/**
 * A usage aggregation of your own (a percentile, a time-weighted average …), named by a
 * metered feature's `aggregator`. It BILLS the feature: the invoice's usage line is
 * priced on its value. Built-in aggregations are computed in SQL over hourly rollups; a
 * custom one cannot be, so it is handed the period's raw events (UsageStore.eventsIn,
 * ordered by timestamp): its cost grows with the events of one customer's feature in
 * one period, read once per invoice computation (a draft's creation, refresh and
 * finalization). Entitlement limits and usage charts keep using the feature's built-in
 * `aggregation` (the hot path never reads raw events).
 */
export interface UsageAggregator {
  /** The aggregate as an exact, non-negative decimal ("0" for no events). */
  aggregate(events: readonly UsageEvent[], context: { feature: Feature; from: Date; to: Date }): string | Dec;
}
export type UsageAggregators = Readonly<Record<string, UsageAggregator>>;

/** One invoice line as a tax calculator sees it: its amount after the coupon's discount. */
export interface TaxableLine {
  id: string;
  kind: InvoiceLine['kind'];
  description: string;
  featureKey: string | null;
  quantity: string;
  /** Minor units after discount; negative for a credit (proration). */
  amount: number;
}

export interface TaxRequest {
  customer: Customer;
  currency: Currency;
  lines: readonly TaxableLine[];
  /** When the invoice is (or would be) issued. */
  issueAt: Date;
  /** The scope's rounding mode, which the built-in calculator rounds each line's tax in. */
  rounding: RoundingMode;
}

/**
 * What a calculator answers: the tax of every line (integer minor units, in the order of
 * the request), whether the prices included it, the rate the invoice prints (null with a
 * note when no tax applies) and, when lines differ, each line's rate name.
 */
export interface TaxResult {
  lines: readonly { id: string; tax: number; rateName?: string }[];
  inclusive: boolean;
  rate: { id: string; displayName: string; percentage: string; inclusive: boolean } | null;
  note: string | null;
}

/**
 * Taxes an invoice's lines. The default is the scope's rate table (tax/service.ts:
 * exempt, reverse charge, the region's rate, the country's). It runs whenever an invoice
 * is computed (created, refreshed, finalized); throwing refuses the computation, so no
 * invoice is written or finalized with a tax that was not answered.
 */
export interface TaxCalculator {
  calculate(scope: Scope, request: TaxRequest): Promise<TaxResult>;
}

/** An invoice rendered as a document: `pdf`, `html`, `csv` … */
export interface InvoiceDocument {
  contentType: string;
  filename: string;
  body: string | Uint8Array;
}

/**
 * Invoice numbers and documents. `number` turns the scope's gap-free sequence value
 * (1, 2, 3 …, allocated in the finalizing transaction) into the printed number; the
 * default is the configured prefix and digits ("INV-000001"). `render` makes the
 * invoice's document; without it the app serves the built-in PDF.
 */
export interface InvoiceFormatter {
  number?(input: { sequence: number; kind: 'invoice' | 'credit_note'; issuedAt: Date; scope: Scope }): string;
  render?(scope: Scope, invoice: Invoice): Promise<InvoiceDocument> | InvoiceDocument;
}

/**
 * A rule of your own checked when a coupon is redeemed, after the built-in checks
 * (archived, expired, plan, currency, cap). Answer `{ ok: false, reason }` to refuse:
 * the redemption fails with an `invalid` error carrying the reason, and nothing changes.
 */
export interface CouponValidator {
  validate(
    scope: Scope,
    input: { coupon: Coupon; customer: Customer | null; plan: Plan | null; at: Date },
  ): Promise<{ ok: true } | { ok: false; reason: string }>;
}
