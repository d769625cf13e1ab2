import { and, asc, eq, gt, inArray, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Database } from '../../../db/client';
import { paymentAttempts, paymentMethods, payments, paymentSettings, providerCustomers, refunds, webhookEvents } from '../../../db/schema';
import type { WebhookEventRecord } from '../payment/events';
import type { ProviderEvent } from '../payment/provider';
import type { PaymentStore } from '../payment/store';
import type { Payment, PaymentAttempt, PaymentMethod, ProviderCustomer, Refund } from '../payment/types';
import {
  conflict,
  scope as toScope,
  type Currency,
  type CustomerId,
  type InvoiceId,
  type PaymentAttemptId,
  type PaymentId,
  type PaymentMethodId,
  type RefundId,
  type Scope,
} from '../types';
import { rowsOf } from './rows';

/**
 * Payments in PostgreSQL (or PGlite). The unique key `payments_idempotency_key` is what
 * records a charge once, even when two collects of one invoice race; a payment moves
 * only by a conditional UPDATE (`status IN from`), so it never goes back.
 */
const inScope = (t: { tenantId: PgColumn; appId: PgColumn }, s: Scope, ...more: (SQL | undefined)[]): SQL =>
  and(eq(t.tenantId, s.tenantId), eq(t.appId, s.appId), ...more)!;

function uniqueViolation(e: unknown, message: string): never {
  const code = (e as { code?: string }).code ?? (e as { cause?: { code?: string } }).cause?.code;
  if (code === '23505') throw conflict(message);
  throw e;
}

const toMethod = (r: typeof paymentMethods.$inferSelect): PaymentMethod => ({
  id: r.id as PaymentMethodId,
  customerId: r.customerId as CustomerId,
  provider: r.provider,
  providerRef: r.providerRef,
  brand: r.brand,
  last4: r.last4,
  expMonth: r.expMonth,
  expYear: r.expYear,
  isDefault: r.isDefault,
  createdAt: r.createdAt,
  detachedAt: r.detachedAt,
});

const toPayment = (r: typeof payments.$inferSelect): Payment => ({
  id: r.id as PaymentId,
  invoiceId: r.invoiceId as InvoiceId,
  customerId: r.customerId as CustomerId,
  amount: r.amount,
  currency: r.currency as Currency,
  status: r.status,
  provider: r.provider,
  attempt: r.attempt,
  idempotencyKey: r.idempotencyKey,
  paymentMethodId: (r.paymentMethodId as PaymentMethodId | null) ?? null,
  providerPaymentId: r.providerPaymentId,
  failureCode: r.failureCode,
  failureMessage: r.failureMessage,
  actionUrl: r.actionUrl,
  amountRefunded: r.amountRefunded,
  dispute: r.dispute ?? null,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

const toRefund = (r: typeof refunds.$inferSelect): Refund => ({
  id: r.id as RefundId,
  paymentId: r.paymentId as PaymentId,
  invoiceId: r.invoiceId as InvoiceId,
  customerId: r.customerId as CustomerId,
  creditNoteId: r.creditNoteId,
  amount: r.amount,
  currency: r.currency as Currency,
  status: r.status,
  provider: r.provider,
  providerRefundId: r.providerRefundId,
  reason: r.reason,
  idempotencyKey: r.idempotencyKey,
  failureMessage: r.failureMessage,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

const toProviderCustomer = (r: typeof providerCustomers.$inferSelect): ProviderCustomer => ({
  customerId: r.customerId as CustomerId,
  provider: r.provider,
  providerCustomerId: r.providerCustomerId,
  createdAt: r.createdAt,
  deletedAt: r.deletedAt,
});

const toAttempt = (r: typeof paymentAttempts.$inferSelect): PaymentAttempt => ({
  id: r.id as PaymentAttemptId,
  paymentId: r.paymentId as PaymentId,
  invoiceId: r.invoiceId as InvoiceId,
  idempotencyKey: r.idempotencyKey,
  number: r.number,
  outcome: r.outcome,
  failureCode: r.failureCode,
  failureMessage: r.failureMessage,
  createdAt: r.createdAt,
});

const toInbox = (r: typeof webhookEvents.$inferSelect): WebhookEventRecord => ({
  provider: r.provider,
  eventId: r.eventId,
  type: r.type,
  payload: r.payload,
  event: r.event as unknown as ProviderEvent,
  receivedAt: r.receivedAt,
  processedAt: r.processedAt,
  outcome: r.outcome,
  note: r.note,
  attempts: r.attempts,
  lastError: r.lastError,
  lockedUntil: r.lockedUntil,
  scope: r.tenantId !== null && r.appId !== null ? { tenantId: r.tenantId, appId: r.appId } : null,
});

const inboxKey = (provider: string, eventId: string) => and(eq(webhookEvents.provider, provider), eq(webhookEvents.eventId, eventId))!;
const notHeld = (now: Date) => or(isNull(webhookEvents.lockedUntil), lte(webhookEvents.lockedUntil, now));

export function createPostgresPaymentStore(db: Database): PaymentStore {
  return {
    async getSettings(s) {
      const [r] = await db.select().from(paymentSettings).where(inScope(paymentSettings, s));
      if (!r) return null;
      const { provider, collectionMethod, daysUntilDue, retrySchedule, finalPolicy, finalInvoiceCredit } = r;
      return { provider, collectionMethod, daysUntilDue, retrySchedule, finalPolicy, finalInvoiceCredit };
    },
    async putSettings(s, settings) {
      await db
        .insert(paymentSettings)
        .values({ ...s, ...settings })
        .onConflictDoUpdate({ target: [paymentSettings.tenantId, paymentSettings.appId], set: { ...settings } });
    },
    async insertMethod(s, m) {
      await db.transaction(async (tx) => {
        if (m.isDefault) {
          await tx
            .update(paymentMethods)
            .set({ isDefault: false })
            .where(inScope(paymentMethods, s, eq(paymentMethods.customerId, m.customerId), eq(paymentMethods.isDefault, true)));
        }
        await tx
          .insert(paymentMethods)
          .values({ ...s, ...m })
          .catch((e) => uniqueViolation(e, `payment method ${m.provider}/${m.providerRef} is already recorded`));
      });
    },
    async getMethod(s, id) {
      const [r] = await db.select().from(paymentMethods).where(inScope(paymentMethods, s, eq(paymentMethods.id, id)));
      return r ? toMethod(r) : null;
    },
    async listMethods(s, customerId) {
      const rows = await db
        .select()
        .from(paymentMethods)
        .where(inScope(paymentMethods, s, eq(paymentMethods.customerId, customerId), isNull(paymentMethods.detachedAt)))
        .orderBy(asc(paymentMethods.id));
      return rows.map(toMethod);
    },
    async defaultMethod(s, customerId) {
      const [r] = await db
        .select()
        .from(paymentMethods)
        .where(inScope(paymentMethods, s, eq(paymentMethods.customerId, customerId), eq(paymentMethods.isDefault, true), isNull(paymentMethods.detachedAt)));
      return r ? toMethod(r) : null;
    },
    async insertPayment(s, p) {
      await db
        .insert(payments)
        .values({ ...s, ...p })
        .catch((e) => uniqueViolation(e, `a payment with idempotency key "${p.idempotencyKey}" already exists`));
    },
    async getPayment(s, id) {
      const [r] = await db.select().from(payments).where(inScope(payments, s, eq(payments.id, id)));
      return r ? toPayment(r) : null;
    },
    async listPaymentsByInvoice(s, invoiceId) {
      const rows = await db.select().from(payments).where(inScope(payments, s, eq(payments.invoiceId, invoiceId))).orderBy(asc(payments.attempt));
      return rows.map(toPayment);
    },
    async listPaymentsByCustomer(s, customerId, page) {
      const rows = await db
        .select()
        .from(payments)
        .where(inScope(payments, s, eq(payments.customerId, customerId), page.cursor ? gt(payments.id, page.cursor) : undefined))
        .orderBy(asc(payments.id))
        .limit(page.limit + 1);
      return rows.map(toPayment);
    },
    async transitionPayment(s, id, from, patch) {
      if (from.length === 0) return null;
      const [r] = await db
        .update(payments)
        .set(patch)
        .where(inScope(payments, s, eq(payments.id, id), inArray(payments.status, [...from])))
        .returning();
      return r ? toPayment(r) : null;
    },
    async insertAttempt(s, a) {
      await db
        .insert(paymentAttempts)
        .values({ ...s, ...a })
        .catch((e) => uniqueViolation(e, `payment ${a.paymentId} already has an attempt ${a.number}`));
    },
    async listAttempts(s, paymentId) {
      const rows = await db
        .select()
        .from(paymentAttempts)
        .where(inScope(paymentAttempts, s, eq(paymentAttempts.paymentId, paymentId)))
        .orderBy(asc(paymentAttempts.number));
      return rows.map(toAttempt);
    },
    async addRefunded(s, paymentId, delta, updatedAt) {
      const next = sql`${payments.amountRefunded} + ${delta}`;
      const [r] = await db
        .update(payments)
        .set({ amountRefunded: next, updatedAt })
        .where(inScope(payments, s, eq(payments.id, paymentId), sql`${next} between 0 and ${payments.amount}`))
        .returning();
      return r ? toPayment(r) : null;
    },
    async insertRefund(s, r) {
      const inserted = await db
        .insert(refunds)
        .values({ ...s, ...r })
        .onConflictDoNothing({ target: [refunds.tenantId, refunds.appId, refunds.idempotencyKey] })
        .returning()
        .catch((e) => uniqueViolation(e, `refund ${r.provider}/${r.providerRefundId} is already recorded`));
      if (inserted[0]) return { refund: toRefund(inserted[0]), created: true };
      const [stored] = await db.select().from(refunds).where(inScope(refunds, s, eq(refunds.idempotencyKey, r.idempotencyKey)));
      if (!stored) throw conflict(`refund ${r.idempotencyKey} could not be recorded; retry`);
      return { refund: toRefund(stored), created: false };
    },
    async getRefund(s, id) {
      const [r] = await db.select().from(refunds).where(inScope(refunds, s, eq(refunds.id, id)));
      return r ? toRefund(r) : null;
    },
    async getRefundByKey(s, key) {
      const [r] = await db.select().from(refunds).where(inScope(refunds, s, eq(refunds.idempotencyKey, key)));
      return r ? toRefund(r) : null;
    },
    async findRefundByProviderRef(s, provider, ref) {
      const [r] = await db.select().from(refunds).where(inScope(refunds, s, eq(refunds.provider, provider), eq(refunds.providerRefundId, ref)));
      return r ? toRefund(r) : null;
    },
    async listRefundsByPayment(s, paymentId) {
      const rows = await db.select().from(refunds).where(inScope(refunds, s, eq(refunds.paymentId, paymentId))).orderBy(asc(refunds.createdAt), asc(refunds.id));
      return rows.map(toRefund);
    },
    async listRefundsByInvoice(s, invoiceId) {
      const rows = await db.select().from(refunds).where(inScope(refunds, s, eq(refunds.invoiceId, invoiceId))).orderBy(asc(refunds.createdAt), asc(refunds.id));
      return rows.map(toRefund);
    },
    async listPendingRefunds(s, limit) {
      const rows = await db
        .select()
        .from(refunds)
        .where(inScope(refunds, s, eq(refunds.status, 'pending')))
        .orderBy(asc(refunds.createdAt), asc(refunds.id))
        .limit(limit);
      return rows.map(toRefund);
    },
    async transitionRefund(s, id, from, patch) {
      if (from.length === 0) return null;
      const [r] = await db
        .update(refunds)
        .set(patch)
        .where(inScope(refunds, s, eq(refunds.id, id), inArray(refunds.status, [...from])))
        .returning()
        .catch((e) => uniqueViolation(e, `refund ${patch.providerRefundId} is already recorded`));
      return r ? toRefund(r) : null;
    },
    async getProviderCustomer(s, customerId, provider) {
      const [r] = await db.select().from(providerCustomers).where(inScope(providerCustomers, s, eq(providerCustomers.customerId, customerId), eq(providerCustomers.provider, provider)));
      return r ? toProviderCustomer(r) : null;
    },
    async putProviderCustomer(s, row) {
      await db
        .insert(providerCustomers)
        .values({ ...s, ...row })
        // The first id stands, unless the provider deleted that customer: then the new one replaces it.
        .onConflictDoUpdate({
          target: [providerCustomers.tenantId, providerCustomers.appId, providerCustomers.customerId, providerCustomers.provider],
          set: { providerCustomerId: row.providerCustomerId, createdAt: row.createdAt, deletedAt: null },
          setWhere: sql`${providerCustomers.deletedAt} is not null and ${providerCustomers.providerCustomerId} <> ${row.providerCustomerId}`,
        })
        .catch((e) => uniqueViolation(e, `${row.provider} customer ${row.providerCustomerId} is already another customer's`));
      const [r] = await db
        .select()
        .from(providerCustomers)
        .where(inScope(providerCustomers, s, eq(providerCustomers.customerId, row.customerId), eq(providerCustomers.provider, row.provider)));
      if (!r) throw conflict(`${row.provider} customer ${row.providerCustomerId} could not be recorded; retry`);
      return toProviderCustomer(r);
    },
    async findProviderCustomer(s, provider, ref) {
      const [r] = await db.select().from(providerCustomers).where(inScope(providerCustomers, s, eq(providerCustomers.provider, provider), eq(providerCustomers.providerCustomerId, ref)));
      return r ? toProviderCustomer(r) : null;
    },
    async markProviderCustomerDeleted(s, provider, ref, at) {
      const [r] = await db
        .update(providerCustomers)
        .set({ deletedAt: sql`coalesce(${providerCustomers.deletedAt}, ${at.toISOString()}::timestamptz)` })
        .where(inScope(providerCustomers, s, eq(providerCustomers.provider, provider), eq(providerCustomers.providerCustomerId, ref)))
        .returning();
      return r ? toProviderCustomer(r) : null;
    },
    async findMethodByProviderRef(s, provider, ref) {
      const [r] = await db.select().from(paymentMethods).where(inScope(paymentMethods, s, eq(paymentMethods.provider, provider), eq(paymentMethods.providerRef, ref)));
      return r ? toMethod(r) : null;
    },
    async updateMethodDetails(s, id, patch) {
      const [r] = await db
        .update(paymentMethods)
        .set({ ...patch, ...(patch.detachedAt ? { isDefault: false } : {}) })
        .where(inScope(paymentMethods, s, eq(paymentMethods.id, id)))
        .returning();
      return r ? toMethod(r) : null;
    },
    async scopesWithPendingWork(limit, after) {
      // Served by payments_unsettled_idx (partial: pending and requires_action payments only).
      const rows = rowsOf<{ tenant_id: string; app_id: string }>(
        await db.execute(sql`
          select tenant_id, app_id from (
            select tenant_id, app_id from payments where status = 'pending'
            union
            select tenant_id, app_id from refunds where status = 'pending'
          ) w
          ${after ? sql`where (tenant_id, app_id) > (${after.tenantId}, ${after.appId})` : sql``}
          order by tenant_id, app_id
          limit ${limit}
        `),
      );
      return rows.map((r) => toScope(r.tenant_id, r.app_id));
    },
    async listPendingPayments(s, limit) {
      const rows = await db
        .select()
        .from(payments)
        .where(inScope(payments, s, eq(payments.status, 'pending')))
        .orderBy(asc(payments.createdAt), asc(payments.id))
        .limit(limit);
      return rows.map(toPayment);
    },
    async insertWebhookEvent(e) {
      const rows = await db
        .insert(webhookEvents)
        .values({
          provider: e.provider,
          eventId: e.eventId,
          type: e.type,
          payload: e.payload,
          event: e.event as unknown as Record<string, unknown>,
          receivedAt: e.receivedAt,
          processedAt: e.processedAt,
          outcome: e.outcome,
          note: e.note,
          attempts: e.attempts,
          lastError: e.lastError,
          lockedUntil: e.lockedUntil,
          tenantId: e.scope?.tenantId ?? null,
          appId: e.scope?.appId ?? null,
        })
        .onConflictDoNothing({ target: [webhookEvents.provider, webhookEvents.eventId] })
        .returning({ eventId: webhookEvents.eventId });
      return rows.length === 1;
    },
    async getWebhookEvent(provider, eventId) {
      const [r] = await db.select().from(webhookEvents).where(inboxKey(provider, eventId));
      return r ? toInbox(r) : null;
    },
    async listPendingWebhookEvents(now, limit) {
      const rows = await db
        .select()
        .from(webhookEvents)
        .where(and(isNull(webhookEvents.processedAt), notHeld(now)))
        .orderBy(asc(webhookEvents.receivedAt))
        .limit(limit);
      return rows.map(toInbox);
    },
    async claimWebhookEvent(provider, eventId, now, lockedUntil) {
      const [r] = await db
        .update(webhookEvents)
        .set({ attempts: sql`${webhookEvents.attempts} + 1`, lockedUntil })
        .where(and(inboxKey(provider, eventId), isNull(webhookEvents.processedAt), notHeld(now)))
        .returning();
      return r ? toInbox(r) : null;
    },
    async completeWebhookEvent(provider, eventId, done) {
      await db
        .update(webhookEvents)
        .set({
          processedAt: done.processedAt,
          outcome: done.outcome,
          note: done.note,
          tenantId: done.scope?.tenantId ?? null,
          appId: done.scope?.appId ?? null,
          lastError: null,
          lockedUntil: null,
        })
        .where(inboxKey(provider, eventId));
    },
    async failWebhookEvent(provider, eventId, error, retryAt) {
      await db.update(webhookEvents).set({ lastError: error, lockedUntil: retryAt }).where(inboxKey(provider, eventId));
    },
    async setDefaultMethod(s, customerId, id) {
      return db.transaction(async (tx) => {
        // Lock the method first, so a concurrent detach cannot slip between the checks.
        const [m] = await tx
          .select()
          .from(paymentMethods)
          .where(inScope(paymentMethods, s, eq(paymentMethods.id, id), eq(paymentMethods.customerId, customerId), isNull(paymentMethods.detachedAt)))
          .for('update');
        if (!m) return null;
        await tx
          .update(paymentMethods)
          .set({ isDefault: false })
          .where(inScope(paymentMethods, s, eq(paymentMethods.customerId, customerId), eq(paymentMethods.isDefault, true)));
        const [r] = await tx.update(paymentMethods).set({ isDefault: true }).where(inScope(paymentMethods, s, eq(paymentMethods.id, id))).returning();
        return r ? toMethod(r) : null;
      });
    },
    async detachMethod(s, id, at) {
      const [r] = await db
        .update(paymentMethods)
        .set({ isDefault: false, detachedAt: at })
        .where(inScope(paymentMethods, s, eq(paymentMethods.id, id), isNull(paymentMethods.detachedAt)))
        .returning();
      return r ? toMethod(r) : null;
    },
  };
}
