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

/** The name a pricing strategy or a usage aggregator is registered under: "p95", "my_model". */
export const extensionName = z.string().regex(/^[a-z][a-z0-9_.-]{0,62}$/, 'lowercase, starting with a letter: "p95"');
const strategyName = extensionName;

export const priceSchema = z.discriminatedUnion('model', [
  /** A fixed fee per period, whatever the quantity. */
  z.object({ model: z.literal('flat'), amount: minorUnits }),
  /** quantity × unitPrice. */
  z.object({ model: z.literal('per_unit'), unitPrice: decimalString }),
  /** Each tier's units at that tier's price (plus its flat fee once reached). */
  z.object({ model: z.literal('graduated'), tiers }),
  /** All units at the price of the tier the total falls in (plus that tier's flat fee). */
  z.object({ model: z.literal('volume'), tiers }),
  /** Per started block of `size` units: 1,001 units at 1,000 per package = 2 packages. */
  z.object({ model: z.literal('package'), size: z.number().int().positive(), packagePrice: decimalString }),
  /**
   * A price model of the engine's user: the pricing strategy registered under `strategy`
   * (createLedger({ pricing: { strategies } })) prices the units above the included ones,
   * with `params`. A plan naming a strategy the engine does not have is refused.
   */
  z.object({
    model: z.literal('custom'),
    strategy: strategyName,
    params: z.record(z.string(), z.unknown()).default({}),
  }),
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
  })
  .refine((f) => f.aggregation !== 'unique_count' || f.uniqueProperty, {
    path: ['uniqueProperty'],
    message: 'a unique_count feature names the property it counts',
  });

export const licensedFeatureSchema = z.object({
  ...featureBase,
  kind: z.literal('licensed'),
  includedUnits: z.number().int().nonnegative().default(0),
  /** Most seats a subscription may have; null for no cap. */
  limit: z.number().int().positive().nullable().default(null),
  price: priceSchema.optional(),
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
  })
  .strict();
export type CurrencyPriceSet = z.output<typeof currencyPriceSetSchema>;

const planFields = {
  key: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase slug: "pro"'),
  name: requiredText(120, { trim: true }),
  description: text(2000),
  currency: currencySchema,
  /** Multi-currency: the prices in each currency offered besides `currency` (at most 20). */
  currencyPrices: z.array(currencyPriceSetSchema).max(20),
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
  currencyPrices: planFields.currencyPrices.default([]),
  metadata: planFields.metadata.default({}),
});
export type CreatePlanInput = z.input<typeof createPlanSchema>;

/** Everything but the key may change; a change to what it costs makes a new version. */
export const updatePlanSchema = z
  .object({
    name: planFields.name,
    description: planFields.description,
    currency: planFields.currency,
    currencyPrices: planFields.currencyPrices,
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
  /** Multi-currency: prices in other currencies (absent or empty: `currency` only). Read through pricesIn. */
  currencyPrices?: CurrencyPriceSet[];
  interval: Interval;
  basePrice: number;
  trialDays: number;
  features: Feature[];
  metadata: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}
