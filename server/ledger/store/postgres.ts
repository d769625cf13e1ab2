import { and, asc, eq, gt, lte, ne, sql, type SQL } from 'drizzle-orm';
import { createPostgresWebhookOutStore } from './postgres-webhook-endpoints';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Database } from '../../../db/client';
import { customers, plans, scopeSettings, scopes, subscriptions } from '../../../db/schema';
import type { Customer } from '../customer/types';
import { changeRulesSchema, currencyPriceSetSchema, featureInputSchema, type Feature, type Interval, type IntervalUnit, type Plan } from '../plan/types';
import type { OutboxInvoice, PendingChange, PriceOverrides, Subscription, SubscriptionDiscount } from '../subscription/types';
import { reviveBasis, reviveLine } from './postgres-invoices';
import type { InvoiceLine } from '../invoice/types';
import { conflict, notFound, type Currency, type CustomerId, type FeatureId, type PlanId, type Scope, type SubscriptionId, type TestClockId } from '../types';
import { createPostgresBillingStore, customerOnClock } from './postgres-billing';
import { createPostgresCouponStore } from './postgres-coupons';
import { createPostgresEventStore } from './postgres-events';
import { transactional } from './transaction';
import { createPostgresInvoiceStore } from './postgres-invoices';
import { createPostgresPaymentStore } from './postgres-payments';
import { createPostgresTaxRateStore } from './postgres-tax';
import { createPostgresUsageStore } from './postgres-usage';
import { createPostgresWalletStore } from './postgres-wallets';
import { createPostgresConsumptionStore } from './postgres-consume';
import type { Store } from './store';

/**
 * The PostgreSQL store, through drizzle: the same code runs on PGlite and on a server.
 * Every query starts from `inScope(table, scope)`, so none can forget the tenant.
 */
type ScopedTable = { tenantId: PgColumn; appId: PgColumn };

function inScope(t: ScopedTable, s: Scope, ...more: (SQL | undefined)[]): SQL {
  return and(eq(t.tenantId, s.tenantId), eq(t.appId, s.appId), ...more)!;
}

const errorCode = (e: unknown) => (e as { code?: string; cause?: { code?: string } }).code ?? (e as { cause?: { code?: string } }).cause?.code;

/** Maps a unique-key violation to a typed conflict; rethrows anything else. */
function uniqueViolation(e: unknown, message: string): never {
  if (errorCode(e) === '23505') throw conflict(message);
  throw e;
}

const toCustomer = (r: typeof customers.$inferSelect): Customer => ({
  id: r.id as CustomerId,
  externalId: r.externalId,
  email: r.email,
  name: r.name,
  country: r.country,
  region: r.region,
  address: r.address ?? null,
  taxStatus: r.taxStatus,
  taxId: r.taxId,
  metadata: r.metadata,
  testClockId: (r.testClockId as TestClockId | null) ?? null,
  collectionMethod: r.collectionMethod ?? null,
  daysUntilDue: r.daysUntilDue ?? null,
  currency: (r.currency as Currency | null) ?? null,
  timeZone: r.timeZone ?? null,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

const customerRow = (s: Scope, c: Customer): typeof customers.$inferInsert => ({ ...s, ...c });

const toPlan = (r: typeof plans.$inferSelect): Plan => ({
  id: r.id as PlanId,
  key: r.key,
  version: r.version,
  isLatest: r.isLatest,
  status: r.status,
  name: r.name,
  description: r.description,
  currency: r.currency as Currency,
  interval: { unit: r.intervalUnit as IntervalUnit, count: r.intervalCount } satisfies Interval,
  basePrice: r.basePrice,
  trialDays: r.trialDays,
  // Re-validated on the way out: a row edited by hand cannot smuggle in a bad price.
  features: (r.features as { id: string }[]).map(
    (f) => ({ ...featureInputSchema.parse(f), id: f.id as FeatureId }) as Feature,
  ),
  // Absent when none, as the plan was given (createPlanSchema leaves it out).
  ...(r.minimumCommitment === null ? {} : { minimumCommitment: r.minimumCommitment }),
  currencyPrices: (r.currencyPrices ?? []).map((c) => currencyPriceSetSchema.parse(c)),
  billingCycle: r.billingCycle,
  changeRules: r.changeRules ? changeRulesSchema.parse(r.changeRules) : null,
  metadata: r.metadata,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

const planRow = (s: Scope, p: Plan): typeof plans.$inferInsert => ({
  ...s,
  id: p.id,
  key: p.key,
  version: p.version,
  isLatest: p.isLatest,
  status: p.status,
  name: p.name,
  description: p.description,
  currency: p.currency,
  intervalUnit: p.interval.unit,
  intervalCount: p.interval.count,
  basePrice: p.basePrice,
  trialDays: p.trialDays,
  features: p.features,
  minimumCommitment: p.minimumCommitment ?? null,
  currencyPrices: p.currencyPrices ?? [],
  billingCycle: p.billingCycle ?? 'anniversary',
  changeRules: p.changeRules ?? null,
  metadata: p.metadata,
  createdAt: p.createdAt,
  updatedAt: p.updatedAt,
});

/** JSON columns hold dates as strings. */
const reviveDiscount = (d: SubscriptionDiscount): SubscriptionDiscount => ({ ...d, appliedAt: new Date(d.appliedAt) });

const toSubscription = (r: typeof subscriptions.$inferSelect): Subscription => ({
  id: r.id as SubscriptionId,
  customerId: r.customerId as CustomerId,
  planId: r.planId as PlanId,
  currency: r.currency as Currency,
  status: r.status,
  quantity: r.quantity,
  trialStart: r.trialStart,
  trialEnd: r.trialEnd,
  billingAnchor: r.billingAnchor,
  currentPeriodStart: r.currentPeriodStart,
  currentPeriodEnd: r.currentPeriodEnd,
  cancelAtPeriodEnd: r.cancelAtPeriodEnd,
  billingCycle: r.billingCycle,
  timeZone: r.timeZone ?? null,
  pendingProrations: (r.pendingProrations as InvoiceLine[]).map(reviveLine),
  canceledAt: r.canceledAt,
  endedAt: r.endedAt,
  unbilledFrom: r.unbilledFrom,
  discount: r.discount ? reviveDiscount(r.discount as SubscriptionDiscount) : null,
  priceOverrides: r.priceOverrides as PriceOverrides,
  pendingChange: (r.pendingChange as PendingChange | null) ?? null,
  outbox: (r.outbox as OutboxInvoice[]).map((o) => ({ ...o, issueAt: new Date(o.issueAt), basis: reviveBasis(o.basis) })),
  version: r.version,
  metadata: r.metadata,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

export function createPostgresStore(pool: Database): Store {
  return createPostgresStoreAndDb(pool).store;
}

/**
 * The store and its transaction-aware database handle: stores of other parts (the audit
 * trail) built on `db` join the engine's transactions (`store.atomic`), so what they write
 * during a change commits with it.
 */
export function createPostgresStoreAndDb(pool: Database): { store: Store; db: Database } {
  const tx = transactional(pool);
  return { store: postgresStoreOn(tx.db, tx.atomic), db: tx.db };
}

function postgresStoreOn(db: Database, atomic: Store['atomic']): Store {
  // Every store below queries through `db`, which joins the current transaction of `atomic`.
  // Served by subscriptions_one_live_key (partial unique index on live rows).
  const liveSubscription = db
    .select()
    .from(subscriptions)
    .where(
      and(
        eq(subscriptions.tenantId, sql.placeholder('tenantId')),
        eq(subscriptions.appId, sql.placeholder('appId')),
        eq(subscriptions.customerId, sql.placeholder('customerId')),
        ne(subscriptions.status, 'canceled'),
      ),
    )
    .prepare('ledger_live_subscription');

  return {
    kind: 'postgres',
    atomic,
    events: createPostgresEventStore(db),
    wallets: createPostgresWalletStore(db, atomic),
    webhooksOut: createPostgresWebhookOutStore(db),
    customers: {
      async insert(s, c) {
        await db
          .insert(customers)
          .values(customerRow(s, c))
          .catch((e) => {
            // Its test clock deleted meanwhile (customers_test_clock_fk).
            if (c.testClockId && errorCode(e) === '23503') throw notFound('test clock', c.testClockId);
            return uniqueViolation(e, `a customer with external id "${c.externalId}" already exists`);
          });
      },
      async get(s, id) {
        const [r] = await db.select().from(customers).where(inScope(customers, s, eq(customers.id, id)));
        return r ? toCustomer(r) : null;
      },
      async getByExternalId(s, externalId) {
        const [r] = await db.select().from(customers).where(inScope(customers, s, eq(customers.externalId, externalId)));
        return r ? toCustomer(r) : null;
      },
      async list(s, page) {
        const rows = await db
          .select()
          .from(customers)
          .where(inScope(customers, s, page.cursor ? gt(customers.id, page.cursor) : undefined))
          .orderBy(asc(customers.id))
          .limit(page.limit + 1);
        return rows.map(toCustomer);
      },
      async update(s, c) {
        // Everything but identity and the test clock (set at creation, never changed).
        const { tenantId: _t, appId: _a, id: _i, createdAt: _c, testClockId: _k, ...set } = customerRow(s, c);
        const r = await db
          .update(customers)
          .set(set)
          .where(inScope(customers, s, eq(customers.id, c.id)))
          .returning({ id: customers.id })
          .catch((e) => uniqueViolation(e, `a customer with external id "${c.externalId}" already exists`));
        return r.length === 1;
      },
    },
    plans: {
      async insert(s, p) {
        await db
          .insert(plans)
          .values(planRow(s, p))
          .catch((e) => uniqueViolation(e, `a plan with key "${p.key}" already exists`));
      },
      async insertVersion(s, previous, next) {
        await db.transaction(async (tx) => {
          const demoted = await tx
            .update(plans)
            .set({ isLatest: false, updatedAt: next.createdAt })
            .where(inScope(plans, s, eq(plans.id, previous.id), eq(plans.isLatest, true)))
            .returning({ id: plans.id });
          if (demoted.length !== 1) throw conflict(`plan ${previous.id} is no longer the latest version`);
          await tx
            .insert(plans)
            .values(planRow(s, next))
            .catch((e) => uniqueViolation(e, `plan "${next.key}" was changed concurrently`));
        });
      },
      async get(s, id) {
        const [r] = await db.select().from(plans).where(inScope(plans, s, eq(plans.id, id)));
        return r ? toPlan(r) : null;
      },
      async getLatestByKey(s, key) {
        const [r] = await db
          .select()
          .from(plans)
          .where(inScope(plans, s, eq(plans.key, key), eq(plans.isLatest, true)));
        return r ? toPlan(r) : null;
      },
      async listLatest(s, page, { includeArchived }) {
        const rows = await db
          .select()
          .from(plans)
          .where(
            inScope(
              plans,
              s,
              eq(plans.isLatest, true),
              includeArchived ? undefined : eq(plans.status, 'active'),
              page.cursor ? gt(plans.key, page.cursor) : undefined,
            ),
          )
          .orderBy(asc(plans.key))
          .limit(page.limit + 1);
        return rows.map(toPlan);
      },
      async updateInPlace(s, p) {
        const r = await db
          .update(plans)
          .set({ name: p.name, description: p.description, metadata: p.metadata, updatedAt: p.updatedAt })
          .where(inScope(plans, s, eq(plans.id, p.id)))
          .returning({ id: plans.id });
        return r.length === 1;
      },
      async archive(s, key, at) {
        await db
          .update(plans)
          .set({ status: 'archived', updatedAt: at })
          .where(inScope(plans, s, eq(plans.key, key)));
      },
    },
    subscriptions: {
      async insert(s, sub) {
        await db
          .insert(subscriptions)
          .values({ ...s, ...sub })
          .catch((e) => uniqueViolation(e, `customer ${sub.customerId} already has a live subscription`));
      },
      async get(s, id) {
        const [r] = await db.select().from(subscriptions).where(inScope(subscriptions, s, eq(subscriptions.id, id)));
        return r ? toSubscription(r) : null;
      },
      async listByCustomer(s, customerId, page) {
        const rows = await db
          .select()
          .from(subscriptions)
          .where(
            inScope(
              subscriptions,
              s,
              eq(subscriptions.customerId, customerId),
              page.cursor ? gt(subscriptions.id, page.cursor) : undefined,
            ),
          )
          .orderBy(asc(subscriptions.id))
          .limit(page.limit + 1);
        return rows.map(toSubscription);
      },
      async getLive(s, customerId) {
        // On every entitlement miss: built once, as a prepared statement.
        const [r] = await liveSubscription.execute({ tenantId: s.tenantId, appId: s.appId, customerId });
        return r ? toSubscription(r) : null;
      },
      async update(s, sub, expectedVersion) {
        const { id, createdAt: _c, ...set } = sub;
        const r = await db
          .update(subscriptions)
          .set(set)
          .where(inScope(subscriptions, s, eq(subscriptions.id, id), eq(subscriptions.version, expectedVersion)))
          .returning({ id: subscriptions.id })
          .catch((e) => uniqueViolation(e, `customer ${sub.customerId} already has a live subscription`));
        return r.length === 1;
      },
      async listWithOutbox(s, limit, on) {
        // Served by subscriptions_outbox_idx (partial: only rows with something owed).
        const rows = await db
          .select()
          .from(subscriptions)
          .where(inScope(subscriptions, s, sql`${subscriptions.outbox} <> '[]'::jsonb`, customerOnClock(subscriptions, on)))
          .limit(limit);
        return rows.map(toSubscription);
      },
      async listDue(s, at, limit, on) {
        const rows = await db
          .select()
          .from(subscriptions)
          .where(inScope(subscriptions, s, ne(subscriptions.status, 'canceled'), lte(subscriptions.currentPeriodEnd, at), customerOnClock(subscriptions, on)))
          .orderBy(asc(subscriptions.currentPeriodEnd), asc(subscriptions.id))
          .limit(limit);
        return rows.map(toSubscription);
      },
    },
    usage: createPostgresUsageStore(db),
    consumptions: createPostgresConsumptionStore(db, atomic),
    coupons: createPostgresCouponStore(db),
    taxRates: createPostgresTaxRateStore(db),
    payments: createPostgresPaymentStore(db),
    invoices: createPostgresInvoiceStore(db),
    billing: createPostgresBillingStore(db),
    scopes: {
      async mode(s) {
        const [r] = await db.select({ mode: scopes.mode }).from(scopes).where(inScope(scopes, s));
        return r?.mode ?? null;
      },
      async register(s, mode) {
        await db.insert(scopes).values({ ...s, mode, createdAt: new Date() }).onConflictDoNothing();
        const [r] = await db.select({ mode: scopes.mode }).from(scopes).where(inScope(scopes, s));
        return r!.mode;
      },
      async settings(s) {
        const [r] = await db.select({ roundingMode: scopeSettings.roundingMode }).from(scopeSettings).where(inScope(scopeSettings, s));
        return r ?? null;
      },
      async putSettings(s, settings) {
        const row = { ...s, roundingMode: settings.roundingMode, updatedAt: new Date() };
        await db.insert(scopeSettings).values(row).onConflictDoUpdate({ target: [scopeSettings.tenantId, scopeSettings.appId], set: { roundingMode: row.roundingMode, updatedAt: row.updatedAt } });
      },
    },
  };
}

