import { and, asc, eq, gt, type SQL } from 'drizzle-orm';
import type { Database } from '../../../db/client';
import { taxRates } from '../../../db/schema';
import type { TaxRateStore } from '../tax/store';
import { placeOf, type TaxRateId, type TaxRateRecord } from '../tax/types';
import { conflict, Dec, type Scope } from '../types';

/**
 * Tax rates in PostgreSQL (or PGlite). "No region" is '' in the table, so the partial
 * unique index `tax_rates_active_region_key` also covers a country's default rate: it is
 * what keeps one active rate per country and region, even under concurrent writes.
 */
const inScope = (s: Scope, ...more: (SQL | undefined)[]): SQL =>
  and(eq(taxRates.tenantId, s.tenantId), eq(taxRates.appId, s.appId), ...more)!;

/** Maps a unique-key violation to a typed conflict; rethrows anything else. */
function uniqueViolation(e: unknown, message: string): never {
  const code = (e as { code?: string }).code ?? (e as { cause?: { code?: string } }).cause?.code;
  if (code === '23505') throw conflict(message);
  throw e;
}

const alreadyActive = (r: TaxRateRecord) =>
  `an active tax rate for ${placeOf(r.country, r.region)} already exists: deactivate it first`;

const toTaxRate = (r: typeof taxRates.$inferSelect): TaxRateRecord => ({
  id: r.id as TaxRateId,
  displayName: r.displayName,
  country: r.country,
  region: r.region === '' ? null : r.region,
  // numeric comes back as written or padded ("20.00"): one spelling per value, "20".
  percentage: new Dec(r.percentage).toFixed(),
  inclusive: r.inclusive,
  active: r.active,
  description: r.description,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

const taxRateRow = (s: Scope, r: TaxRateRecord): typeof taxRates.$inferInsert => ({
  ...s,
  id: r.id,
  displayName: r.displayName,
  country: r.country,
  region: r.region ?? '',
  percentage: r.percentage,
  inclusive: r.inclusive,
  active: r.active,
  description: r.description,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

export function createPostgresTaxRateStore(db: Database): TaxRateStore {
  return {
    async insert(s, rate) {
      await db
        .insert(taxRates)
        .values(taxRateRow(s, rate))
        .catch((e) => uniqueViolation(e, alreadyActive(rate)));
    },
    async get(s, id) {
      const [r] = await db.select().from(taxRates).where(inScope(s, eq(taxRates.id, id)));
      return r ? toTaxRate(r) : null;
    },
    async list(s, page, { country, includeInactive }) {
      const rows = await db
        .select()
        .from(taxRates)
        .where(
          inScope(
            s,
            includeInactive ? undefined : eq(taxRates.active, true),
            country === undefined ? undefined : eq(taxRates.country, country),
            page.cursor ? gt(taxRates.id, page.cursor) : undefined,
          ),
        )
        .orderBy(asc(taxRates.id))
        .limit(page.limit + 1);
      return rows.map(toTaxRate);
    },
    async update(s, rate) {
      const r = await db
        .update(taxRates)
        .set({ displayName: rate.displayName, description: rate.description, active: rate.active, updatedAt: rate.updatedAt })
        .where(inScope(s, eq(taxRates.id, rate.id)))
        .returning({ id: taxRates.id })
        .catch((e) => uniqueViolation(e, alreadyActive(rate)));
      return r.length === 1;
    },
    async findActive(s, country, region) {
      const [r] = await db
        .select()
        .from(taxRates)
        .where(inScope(s, eq(taxRates.country, country), eq(taxRates.region, region ?? ''), eq(taxRates.active, true)));
      return r ? toTaxRate(r) : null;
    },
  };
}
