import { z } from 'zod';
import { boundedRecord, isCurrency, metadataSchema, requiredText, text, type Currency, type PlanId, type FeatureId } from '../types';

/**
 * A plan: what a customer subscribes to. It has a currency, a billing interval, trial
 * days, a base fee and features. Each feature is one of:
 * - metered: usage reported through metering, aggregated per period (sum, count, max,
 *   unique count of a property, latest value), with an optional limit;
 * - licensed: per seat, the subscription's seat quantity;
 * - boolean: on or off.
 * Metered and licensed features have a price (below) and included units.
 *
 * Plans are versioned: a plan `key` ("pro") names a line of versions; each version has
 * its own id and never changes its prices. See PlanService.update.
 */

/** A decimal given as a string so it stays exact: "0.0004". Non-negative. */
export const decimalString = z
  .string()
  .regex(/^\d+(\.\d{1,12})?$/, 'must be a non-negative decimal string such as "0.0004"');

/** An amount in minor units (cents): a non-negative integer. */
export const minorUnits = z
  .number()
  .int('must be an integer number of minor units (cents), not a fraction')
  .nonnegative('must not be negative')
  .max(Number.MAX_SAFE_INTEGER);

export const tierSchema = z.object({
  /** Inclusive upper bound of the tier in units; null for the last, unbounded tier. */
  upTo: z.number().int().positive().nullable(),
  unitPrice: decimalString,
  /** A fee charged once when usage reaches this tier (minor units). */
  flatFee: minorUnits.default(0),
});

/**
 * Tiers must cover every quantity from 0 up: bounds strictly increasing, and only the
 * last tier unbounded. Anything else leaves a gap (units with no price) or an overlap.
 */
const tiers = z
  .array(tierSchema)
  .min(1, 'at least one tier')
  .max(50)
  .superRefine((ts, ctx) => {
    ts.forEach((t, i) => {
      const last = i === ts.length - 1;
      if (t.upTo === null && !last) {
        ctx.addIssue({ code: 'custom', path: [i, 'upTo'], message: 'only the last tier may be unbounded (upTo: null)' });
      }
      if (last && t.upTo !== null) {
        ctx.addIssue({ code: 'custom', path: [i, 'upTo'], message: `the last tier must be unbounded (upTo: null), or units above ${t.upTo} have no price` });
      }
      const prev = ts[i - 1];
      if (prev && prev.upTo !== null && t.upTo !== null && t.upTo <= prev.upTo) {
        ctx.addIssue({ code: 'custom', path: [i, 'upTo'], message: `tier bounds must increase: ${t.upTo} after ${prev.upTo}` });
      }
    });
  });

// -- minimums, percentage charges, rounding ------------------------------------------

/**
 * A minimum per charge: the least the feature's charge comes to per period, in minor
 * units. When the priced usage falls short a true-up line bills the difference (prorated
 * when the period is). This is how a platform minimum is expressed: a first tier's flat
 * fee is charged only once a unit falls in the tier, so with no usage it bills nothing.
 */
const chargeMinimum = minorUnits.optional();

/** A percentage as a decimal string: "1.2" means 1.2 %. */
export const percentString = decimalString;

/** Tier bounds of any tiered price: increasing, only the last unbounded. */
function tierBoundIssues(ts: readonly { upTo: number | null }[], ctx: z.RefinementCtx): void {
  ts.forEach((t, i) => {
    const last = i === ts.length - 1;
    if (t.upTo === null && !last) ctx.addIssue({ code: 'custom', path: [i, 'upTo'], message: 'only the last tier may be unbounded (upTo: null)' });
    if (last && t.upTo !== null) ctx.addIssue({ code: 'custom', path: [i, 'upTo'], message: `the last tier must be unbounded (upTo: null), or amounts above ${t.upTo} have no rate` });
    const prev = ts[i - 1];
    if (prev && prev.upTo !== null && t.upTo !== null && t.upTo <= prev.upTo) {
      ctx.addIssue({ code: 'custom', path: [i, 'upTo'], message: `tier bounds must increase: ${t.upTo} after ${prev.upTo}` });
    }
  });
}

/** A tier of a graduated percentage: amounts up to `upTo` (major units, inclusive) at `rate` %. */
export const percentTierSchema = z.object({
  upTo: z.number().positive().finite().nullable(),
  rate: percentString,
  /** Charged once when the summed amount reaches this tier (minor units). */
  flatFee: minorUnits.default(0),
});

/**
 * Lago's percentage charge: each transaction (usage event) costs `rate` % of its amount
 * (the feature's `amountProperty`, major units) plus `fixedFee`, kept within
 * [minPerTransaction, maxPerTransaction]; the period's charge is the sum, rounded once.
 * Free units (Lago's), in the period's order of transactions: while a transaction is
 * among the first `freeTransactions` and the running amount stays within `freeAmount`
 * (each when set), it costs nothing; the one that crosses `freeAmount` pays on the part
 * above it.
 */
const percentagePrice = z
  .object({
    model: z.literal('percentage'),
    rate: percentString,
    fixedFee: minorUnits.default(0),
    minPerTransaction: minorUnits.optional(),
    maxPerTransaction: minorUnits.optional(),
    /** The period's first N transactions are free (Lago's free_units_per_events). */
    freeTransactions: z.number().int().positive().max(1_000_000_000).optional(),
    /** The period's first amount of transactions is free, minor units (Lago's free_units_per_total_aggregation). */
    freeAmount: minorUnits.optional(),
    minimum: chargeMinimum,
  })
  .refine((p) => p.minPerTransaction === undefined || p.maxPerTransaction === undefined || p.minPerTransaction <= p.maxPerTransaction, {
    path: ['maxPerTransaction'],
    message: 'maxPerTransaction must not be below minPerTransaction',
  });

/** Lago's graduated percentage: the period's summed amount through tiers of rates. */
const graduatedPercentagePrice = z.object({
  model: z.literal('graduated_percentage'),
  tiers: z.array(percentTierSchema).min(1, 'at least one tier').max(50).superRefine(tierBoundIssues),
  minimum: chargeMinimum,
});

/** The price models that read a transaction amount from each event's properties. */
export const PERCENTAGE_MODELS = ['percentage', 'graduated_percentage'] as const;
export const isPercentagePrice = (p: { model: string } | undefined): p is Extract<Price, { model: (typeof PERCENTAGE_MODELS)[number] }> =>
  p !== undefined && (PERCENTAGE_MODELS as readonly string[]).includes(p.model);

// -- end of minimums, percentage charges, rounding ------------------------------------

/** The name a pricing strategy or a usage aggregator is registered under: "p95", "my_model". */
export const extensionName = z.string().regex(/^[a-z][a-z0-9_.-]{0,62}$/, 'lowercase, starting with a letter: "p95"');
const strategyName = extensionName;

export const priceSchema = z.discriminatedUnion('model', [
  /** A fixed fee per period, whatever the quantity. */
  z.object({ model: z.literal('flat'), amount: minorUnits }),
  /** quantity × unitPrice. */
  z.object({ model: z.literal('per_unit'), unitPrice: decimalString, minimum: chargeMinimum }),
  /** Each tier's units at that tier's price (plus its flat fee once reached). */
  z.object({ model: z.literal('graduated'), tiers, minimum: chargeMinimum }),
  /** All units at the price of the tier the total falls in (plus that tier's flat fee). */
  z.object({ model: z.literal('volume'), tiers, minimum: chargeMinimum }),
  /** Per started block of `size` units: 1,001 units at 1,000 per package = 2 packages. */
  z.object({ model: z.literal('package'), size: z.number().int().positive(), packagePrice: decimalString, minimum: chargeMinimum }),
  /**
   * A price model of the engine's user: the pricing strategy registered under `strategy`
   * (createLedger({ pricing: { strategies } })) prices the units above the included ones,
   * with `params`. A plan naming a strategy the engine does not have is refused.
   */
  z.object({
    model: z.literal('custom'),
    strategy: strategyName,
    params: z.record(z.string(), z.unknown()).default({}),
    minimum: chargeMinimum,
  }),
  percentagePrice,
  graduatedPercentagePrice,
]);
export type Price = z.output<typeof priceSchema>;

export const AGGREGATIONS = ['sum', 'count', 'max', 'unique_count', 'latest'] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

/** A feature's key: the regex admits only ASCII, so no NUL or surrogate can pass. */
const featureKey = z
  .string()
  .regex(/^[a-z][a-z0-9_.-]{0,62}$/, 'lowercase, starting with a letter: "api_calls"');

const featureBase = {
  key: featureKey,
  name: requiredText(120, { trim: true }),
};

export const meteredFeatureSchema = z
  .object({
    ...featureBase,
    kind: z.literal('metered'),
    aggregation: z.enum(AGGREGATIONS),
    /**
     * A usage aggregator registered with the engine (createLedger({ aggregators })) that
     * bills the feature instead of `aggregation` ("p95"); limits and charts keep using
     * `aggregation`. Read from the period's raw events, not the rollups.
     */
    aggregator: extensionName.optional(),
    /** The event property counted by `unique_count` ("user_id"). */
    uniqueProperty: requiredText(100).optional(),
    /** Usage allowed per period; null means unlimited (usage is billed). */
    limit: z.number().nonnegative().nullable().default(null),
    includedUnits: z.number().int().nonnegative().default(0),
    unitName: text(40).optional(),
    price: priceSchema.optional(),
    /**
     * The event property that carries a transaction's amount, for percentage prices
     * ("amount"): a decimal in major units of the invoice's currency, as a number (12.5)
     * or a string ("12.50"). An event without it, or with anything else, counts as an
     * amount of 0 (the fixed fee and the per-transaction minimum still apply).
     */
    amountProperty: requiredText(100).optional(),
    /**
     * Prepaid usage: `entitlements.consume` also refuses a consumption the customer's
     * wallet credits cannot cover (the period's usage charges, this one included).
     * Absent: consumption is checked against `limit` only.
     */
    limitByCredits: z.boolean().optional(),
  })
  .refine((f) => f.aggregation !== 'unique_count' || f.uniqueProperty, {
    path: ['uniqueProperty'],
    message: 'a unique_count feature names the property it counts',
  })
  .refine((f) => !isPercentagePrice(f.price) || f.amountProperty, {
    path: ['amountProperty'],
    message: 'a percentage price reads each transaction\'s amount from an event property: name it in amountProperty ("amount")',
  })
  .refine((f) => f.price?.model !== 'percentage' || f.includedUnits === 0, {
    path: ['includedUnits'],
    message: 'a percentage price is charged per transaction: it takes no included units',
  })
  // A consumption's charge is priced from its quantity before it is recorded: a
  // transaction amount or a custom aggregate cannot be known from a quantity.
  .refine((f) => !f.limitByCredits || (f.aggregation === 'sum' || f.aggregation === 'count'), {
    path: ['limitByCredits'],
    message: 'only sum and count features are consumed, so only they can be limited by credits',
  })
  .refine((f) => !f.limitByCredits || (!isPercentagePrice(f.price) && f.aggregator === undefined), {
    path: ['limitByCredits'],
    message: 'a feature limited by credits is priced by its quantity: not a percentage price or a custom aggregator',
  });

export const licensedFeatureSchema = z.object({
  ...featureBase,
  kind: z.literal('licensed'),
  includedUnits: z.number().int().nonnegative().default(0),
  /** Most seats a subscription may have; null for no cap. */
  limit: z.number().int().positive().nullable().default(null),
  price: priceSchema.optional(),
}).refine((f) => !isPercentagePrice(f.price), {
  path: ['price', 'model'],
  message: 'a percentage price charges transactions: it belongs to a metered feature, not to seats',
});

export const booleanFeatureSchema = z.object({
  ...featureBase,
  kind: z.literal('boolean'),
  enabled: z.boolean().default(true),
});

export const featureInputSchema = z.union([meteredFeatureSchema, licensedFeatureSchema, booleanFeatureSchema]);
export type FeatureInput = z.input<typeof featureInputSchema>;
export type Feature = z.output<typeof featureInputSchema> & { id: FeatureId };

export const INTERVAL_UNITS = ['day', 'week', 'month', 'year'] as const;
export type IntervalUnit = (typeof INTERVAL_UNITS)[number];
export const intervalSchema = z.object({
  unit: z.enum(INTERVAL_UNITS),
  count: z.number().int().min(1).max(36).default(1),
});
export type Interval = z.output<typeof intervalSchema>;

export const currencySchema = z
  .string()
  .transform((c) => c.toUpperCase())
  .refine(isCurrency, { message: 'unknown currency: expected an ISO 4217 code such as USD' })
  .transform((c) => c as Currency);

/**
 * Multi-currency: the plan's prices in one more currency than its main one (Stripe's
 * `currency_options`). The base fee and the price of every priced feature, by feature
 * key, in that currency's minor units (JPY 0 decimals, USD 2, KWD 3: 6.125 KWD is 6125).
 * Each price has the main price's model and shape (tier bounds, package size, strategy);
 * only amounts differ. Checked against the plan by checkCurrencyPrices (currency-prices.ts).
 */
export const currencyPriceSetSchema = z
  .object({
    currency: currencySchema,
    basePrice: minorUnits.default(0),
    features: boundedRecord(priceSchema, { keys: 100, keyLength: 63 }).default({}),
    /** The plan's minimum commitment in this currency: stated in every set when the plan has one. */
    minimumCommitment: minorUnits.nullable().optional(),
  })
  .strict();
export type CurrencyPriceSet = z.output<typeof currencyPriceSetSchema>;

/**
 * Periods and proration: how a change away from a plan takes effect, per direction (an
 * upgrade raises the in-advance fees of the period, subscription/changes.ts). `when`:
 * `immediately` or `at_renewal`; `proration`: `prorate` (credit and charge the rest of
 * the period) or `full` (credit the old fees and charge the new ones for the whole
 * period). Defaults: upgrades immediately and prorated, downgrades at renewal.
 */
const changeRuleSchema = (when: 'immediately' | 'at_renewal') =>
  z
    .object({
      when: z.enum(['immediately', 'at_renewal']).default(when),
      proration: z.enum(['prorate', 'full']).default('prorate'),
    })
    .strict();
export const changeRulesSchema = z
  .object({
    upgrade: changeRuleSchema('immediately').default({ when: 'immediately', proration: 'prorate' }),
    downgrade: changeRuleSchema('at_renewal').default({ when: 'at_renewal', proration: 'prorate' }),
  })
  .strict();
export type ChangeRules = z.output<typeof changeRulesSchema>;
export const DEFAULT_CHANGE_RULES: ChangeRules = { upgrade: { when: 'immediately', proration: 'prorate' }, downgrade: { when: 'at_renewal', proration: 'prorate' } };

const planFields = {
  key: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase slug: "pro"'),
  name: requiredText(120, { trim: true }),
  description: text(2000),
  currency: currencySchema,
  /**
   * Minimum commitment: the least the plan's charges of a period come to, in minor units,
   * before discounts and taxes; a shortfall is billed as a true-up line. Null: none.
   */
  minimumCommitment: minorUnits.nullable(),
  /** Multi-currency: the prices in each currency offered besides `currency` (at most 20). */
  currencyPrices: z.array(currencyPriceSetSchema).max(20),
  /** Periods and proration: `calendar` aligns periods to the calendar (subscription/calendar.ts). */
  billingCycle: z.enum(['anniversary', 'calendar']),
  /** Periods and proration: how changes away from this plan take effect; null: the defaults. */
  changeRules: changeRulesSchema.nullable(),
  interval: intervalSchema,
  /** The plan's own fee per interval, billed in advance (minor units). */
  basePrice: minorUnits,
  trialDays: z.number().int().min(0).max(365),
  features: z
    .array(featureInputSchema)
    .max(100)
    .superRefine((fs, ctx) => {
      const seen = new Set<string>();
      fs.forEach((f, i) => {
        if (seen.has(f.key)) ctx.addIssue({ code: 'custom', path: [i, 'key'], message: `duplicate feature key "${f.key}"` });
        seen.add(f.key);
      });
    }),
  metadata: metadataSchema,
};

/** Defaults apply when a plan is created, never to an update (an absent field is unchanged). */
export const createPlanSchema = z.object({
  ...planFields,
  description: planFields.description.default(''),
  basePrice: planFields.basePrice.default(0),
  trialDays: planFields.trialDays.default(0),
  features: planFields.features.default([]),
  minimumCommitment: planFields.minimumCommitment.optional(),
  currencyPrices: planFields.currencyPrices.default([]),
  billingCycle: planFields.billingCycle.default('anniversary'),
  changeRules: planFields.changeRules.default(null),
  metadata: planFields.metadata.default({}),
});
export type CreatePlanInput = z.input<typeof createPlanSchema>;

/** Everything but the key may change; a change to what it costs makes a new version. */
export const updatePlanSchema = z
  .object({
    name: planFields.name,
    description: planFields.description,
    currency: planFields.currency,
    // null removes the commitment: stored as absent, as a plan created without one.
    minimumCommitment: planFields.minimumCommitment.transform((v) => v ?? undefined),
    currencyPrices: planFields.currencyPrices,
    billingCycle: planFields.billingCycle,
    changeRules: planFields.changeRules,
    interval: planFields.interval,
    basePrice: planFields.basePrice,
    trialDays: planFields.trialDays,
    features: planFields.features,
    metadata: planFields.metadata,
  })
  .partial()
  .strict();
export type UpdatePlanInput = z.input<typeof updatePlanSchema>;

export type PlanStatus = 'active' | 'archived';

export interface Plan {
  id: PlanId;
  key: string;
  /** 1, 2, 3 …: each change of price makes a new version with a new id. */
  version: number;
  /** True for the version new subscriptions get. */
  isLatest: boolean;
  status: PlanStatus;
  name: string;
  description: string;
  currency: Currency;
  /** Minimum spend per period (minor units), before discounts and taxes; absent or null: none. */
  minimumCommitment?: number | null;
  /** Multi-currency: prices in other currencies (absent or empty: `currency` only). Read through pricesIn. */
  currencyPrices?: CurrencyPriceSet[];
  /** Periods and proration: anniversary (absent: the default) or calendar periods. */
  billingCycle?: 'anniversary' | 'calendar';
  /** Periods and proration: how changes away from this plan take effect (absent or null: the defaults). */
  changeRules?: ChangeRules | null;
  interval: Interval;
  basePrice: number;
  trialDays: number;
  features: Feature[];
  metadata: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}
