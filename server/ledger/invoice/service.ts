import type { EventType } from '../events/types';
import { couponDiscount } from '../coupon/apply';
import { couponForInvoice, giveBackCouponBalance, retryWhenBalanceMoved, spendCouponBalance } from '../coupon/balance';
import type { Coupon } from '../coupon/types';
import type { EngineContext } from '../context';
import type { Customer } from '../customer/types';
import type { Feature, Plan } from '../plan/types';
import { pricesIn } from '../plan/currency-prices';
import type { Subscription } from '../subscription/types';
import type { InvoiceFormatter, PricingStrategies, TaxCalculator, TaxResult, UsageAggregators } from '../extensions/types';
import {
  currency,
  Dec,
  findById,
  illegalState,
  invalid,
  isLedgerError,
  newId,
  notFound,
  pageOf,
  parseId,
  parseInput,
  type CouponId,
  type Currency,
  type Page,
  type PageInput,
  type PlanId,
  type RoundingMode,
  type Scope,
} from '../types';
import type { OnClock } from '../billing/store';
import { newInvoiceState } from './draft';
import { advanceLines, chargeQueries, commitmentIn, commitmentLine, discountLines, figuresOf, invoicePeriod, periodFraction, usageLines } from './build';
import { DEFAULT_SCOPE_SETTINGS } from '../scope/settings';
import type { TransactionTotals } from '../plan/pricing';
import type { PriceOverrides } from '../subscription/types';
import { sendOnly, type CollectionReport, type InvoiceCollector } from './collector';
import { numberedPageSchema, pageWindow, type NumberedPage, type NumberedPageInput } from './listing';
import type { CollectionExpectation, CollectionPatch, Numbering } from './store';
import {
  creditNoteSchema,
  DEFAULT_INVOICE_CONFIG,
  TRANSITIONS,
  voidSchema,
  type BillingReason,
  type CreditNote,
  type CreditNoteInput,
  type CustomerSnapshot,
  type Invoice,
  type InvoiceBasis,
  type InvoiceConfig,
  type InvoiceStatus,
} from './types';

const DAY_MS = 86_400_000;

/** What an invoice is computed and numbered with: the engine's extensions, or the built-ins. */
export interface InvoiceExtensions {
  taxCalculator: TaxCalculator;
  strategies?: PricingStrategies;
  aggregators?: UsageAggregators;
  formatter?: InvoiceFormatter;
}

/** A formatter's number, checked: printable text of at most 64 characters. */
function checkedNumber(n: unknown): string {
  if (typeof n !== 'string' || n.trim() === '' || n.length > 64 || /[\u0000-\u001f]/.test(n)) {
    throw invalid(`the invoice formatter's number ${JSON.stringify(n)} is not printable text of 1 to 64 characters`);
  }
  return n;
}

/** Prepaid credits at finalization, in the billing cycle, and given back (wallet/service.ts). */
export interface WalletHook {
  applyToInvoice(scope: Scope, invoice: Invoice, now: Date): Promise<Invoice>;
  /** In the void's transaction: every credit the voided invoice still holds goes back. */
  giveBackVoided(scope: Scope, invoice: Invoice, now: Date): Promise<number>;
  /** In the credit note's transaction: the credits the note gives back (wallet/give-back.ts). */
  giveBackCredited(scope: Scope, invoice: Invoice, note: CreditNote, refunded: boolean): Promise<number>;
  /** A paid top-up's credits still unused: what a credit note on it may pay back; null for any other invoice. */
  topUpCreditable(scope: Scope, invoice: Invoice): Promise<number | null>;
  due(scope: Scope, now: Date, on: OnClock | undefined): Promise<void>;
  nextDue(scope: Scope, to: Date, on: OnClock | undefined): Promise<Date | null>;
}

/** What an invoice's content is: everything but identity, state and timestamps. */
type Content = Pick<
  Invoice,
  'lines' | 'subtotal' | 'discount' | 'tax' | 'total' | 'taxInclusive' | 'taxRate' | 'taxNote' | 'couponId' | 'periodStart' | 'periodEnd' | 'currency'
>;

/**
 * Invoices: made from a basis (what a subscription owes for a span of time), kept as
 * drafts while late usage may still arrive, finalized (numbered, the customer copied,
 * earlier credit applied), then paid, voided or marked uncollectible; corrected only by
 * credit notes. One use case per method, each checking the state machine.
 */
export class InvoiceService {
  readonly config: InvoiceConfig;
  #collector: InvoiceCollector = sendOnly;
  #wallets: WalletHook | null = null;

  constructor(
    private readonly ctx: EngineContext,
    private readonly extensions: InvoiceExtensions,
    config: Partial<InvoiceConfig> = {},
  ) {
    this.config = { ...DEFAULT_INVOICE_CONFIG, ...config };
  }

  /** The invoice formatter given to the engine, if any: its `render` makes documents (the app's PDF route asks). */
  get formatter(): InvoiceFormatter | null {
    return this.extensions.formatter ?? null;
  }

  /** The numbering of a finalization or credit note at `issuedAt`: the formatter's when it numbers. */
  private numbering(scope: Scope, kind: 'invoice' | 'credit_note', issuedAt: Date): Numbering {
    const prefix = kind === 'invoice' ? this.config.numberPrefix : this.config.creditNotePrefix;
    const number = this.extensions.formatter?.number?.bind(this.extensions.formatter);
    return {
      prefix,
      digits: this.config.numberDigits,
      ...(number ? { format: (sequence: number) => checkedNumber(number({ sequence, kind, issuedAt, scope })) } : {}),
    };
  }

  /** Prepaid credits (wallet/service.ts): used at finalization, and their expiries and grants run with collection; set once at start. */
  payWithWallets(wallets: WalletHook): void {
    this.#wallets = wallets;
  }

  /** Who collects finalized invoices (the engine's dunning, payment/dunning.ts); set once at start. */
  collectWith(collector: InvoiceCollector): void {
    this.#collector = collector;
  }

  // --- reading ---------------------------------------------------------------------

  get(scope: Scope, id: string): Promise<Invoice> {
    return findById('invoice', id, (iid) => this.ctx.store.invoices.get(scope, iid));
  }

  async listByCustomer(scope: Scope, customerId: string, page: PageInput = {}): Promise<Page<Invoice>> {
    const customer = await findById('customer', customerId, (cid) => this.ctx.store.customers.get(scope, cid));
    return pageOf(page, (p) => this.ctx.store.invoices.listByCustomer(scope, customer.id, p));
  }

  /**
   * A numbered page (1-based) of the customer's invoices, newest first (newestInvoiceFirst),
   * with the page count and the total: what a list with page numbers shows. The store
   * reads only that page. A page past the end is the last page.
   */
  async pageByCustomer(scope: Scope, customerId: string, input: NumberedPageInput = {}): Promise<NumberedPage<Invoice>> {
    const { page, perPage } = parseInput(numberedPageSchema, input, 'page');
    const id = parseId('customer', customerId);
    const [, first] = await Promise.all([
      findById('customer', id, (cid) => this.ctx.store.customers.get(scope, cid)),
      this.ctx.store.invoices.sliceByCustomer(scope, id, { offset: (page - 1) * perPage, limit: perPage }),
    ]);
    const w = pageWindow(first.total, page, perPage);
    // Past the end (a stale link, or invoices fewer than the page asked for): the last page.
    const slice = w.page === page ? first : await this.ctx.store.invoices.sliceByCustomer(scope, id, { offset: w.offset, limit: perPage });
    const last = pageWindow(slice.total, w.page, perPage);
    return { items: slice.items, page: last.page, pageCount: last.pageCount, total: slice.total };
  }

  /** The customer's invoices still asking for money (isPayable: open or uncollectible, something due), oldest first: the order to pay them in. */
  async listPayable(scope: Scope, customerId: string): Promise<Invoice[]> {
    const id = parseId('customer', customerId);
    const [, payable] = await Promise.all([
      findById('customer', id, (cid) => this.ctx.store.customers.get(scope, cid)),
      this.ctx.store.invoices.listPayableByCustomer(scope, id),
    ]);
    return payable;
  }

  async listCreditNotes(scope: Scope, invoiceId: string): Promise<CreditNote[]> {
    const inv = await this.get(scope, invoiceId);
    return this.ctx.store.invoices.listCreditNotes(scope, inv.id);
  }

  /**
   * The customer's credit balance in `currency` (minor units): credit left by its invoices
   * with negative totals (of any of its subscriptions), less what was refunded of it and
   * what later invoices took; the next invoice finalized in that currency takes from it.
   */
  async creditBalance(scope: Scope, customerId: string, currencyCode: string): Promise<number> {
    const code = currency(currencyCode);
    const customer = await findById('customer', customerId, (cid) => this.ctx.store.customers.get(scope, cid));
    return this.ctx.store.invoices.creditBalance(scope, customer.id, code);
  }

  // --- making ----------------------------------------------------------------------

  /**
   * Makes the draft invoice of a subscription for `key`, once: if it exists (the cycle
   * ran before, or runs concurrently), the stored one is returned. A draft that bills
   * usage waits `finalizeGraceMs` for late events; one that bills none (fees in advance,
   * prorations, a trial) can be finalized at once.
   */
  async create(
    scope: Scope,
    sub: Subscription,
    reason: BillingReason,
    key: string,
    issueAt: Date,
    basis: InvoiceBasis,
  ): Promise<{ invoice: Invoice; created: boolean }> {
    const now = await this.ctx.customerNow(scope, sub.customerId);
    const plan = await this.ctx.store.plans.get(scope, sub.planId);
    if (!plan) throw notFound('plan', sub.planId);
    const content = await this.compute(scope, sub.customerId, sub.currency ?? plan.currency, basis, issueAt);
    const invoice: Invoice = {
      id: newId('invoice'),
      number: null,
      status: 'draft',
      subscriptionId: sub.id,
      customerId: sub.customerId,
      billingReason: reason,
      key,
      issueAt,
      ...content,
      creditApplied: 0,
      credited: 0,
      amountDue: Math.max(0, content.total),
      basis,
      finalizeAt: new Date(issueAt.getTime() + (content.lines.some((l) => l.kind === 'usage') ? this.config.finalizeGraceMs : 0)),
      ...newInvoiceState(now),
    };
    return this.storeNew(scope, invoice);
  }

  /**
   * Stores a new invoice once by its key (the invoice already there when another call
   * made it first), with `invoice.created`; `onInvoiceGenerated` for the one made.
   */
  async storeNew(scope: Scope, invoice: Invoice): Promise<{ invoice: Invoice; created: boolean }> {
    const stored = await this.ctx.events.atomic(scope, async (record) => {
      const r = await this.ctx.store.invoices.insertOnce(scope, invoice);
      if (r.created) record({ type: 'invoice.created', object: r.invoice });
      return r;
    });
    if (stored.created) await this.ctx.plugins.emit('onInvoiceGenerated', scope, stored.invoice);
    return stored;
  }

  /**
   * What a basis comes to now: lines from the plans and the usage, discounted and taxed,
   * for an invoice issued at `issueAt` (its period: invoicePeriod, build.ts).
   */
  async compute(scope: Scope, customerId: Subscription['customerId'], currency: Currency, basis: InvoiceBasis, issueAt: Date): Promise<Content> {
    const customer = await this.ctx.store.customers.get(scope, customerId);
    if (!customer) throw notFound('customer', customerId);
    const planOf = this.#plansIn(scope, currency);
    const lines = [];
    const { roundingMode: rounding } = (await this.ctx.store.scopes.settings(scope)) ?? DEFAULT_SCOPE_SETTINGS;
    if (basis.usage) {
      const plan = await planOf(basis.usage.planId);
      const usage = await this.#usageLinesOf(scope, customer, plan, basis.usage, issueAt, rounding);
      if (usage) {
        lines.push(...usage.lines);
        // The minimum commitment counts the fees that paid for this period too: at the
        // seats in force in it (older invoices: the seats the fees in advance carry on,
        // when they are of the same plan).
        const seats = basis.usage.quantity ?? (basis.advance?.planId === basis.usage.planId ? basis.advance.quantity : 0);
        const trueUp = commitmentLine(plan, basis.usage.overrides, basis.usage, usage.lines, advanceLines(plan, seats, basis.usage.overrides, basis.usage, rounding), rounding, usage.fraction);
        if (trueUp) lines.push(trueUp);
      }
    }
    if (basis.advance) {
      const plan = await planOf(basis.advance.planId);
      lines.push(...advanceLines(plan, basis.advance.quantity, basis.advance.overrides, basis.advance, rounding));
    }
    lines.push(...basis.prorations);
    if (!basis.usage && !basis.advance && basis.prorations.length === 0) throw invalid('an invoice needs fees, usage or prorations to bill');

    // A carried-over coupon amount discounts by what is left of it (coupon/balance.ts).
    const coupon = basis.couponId ? await couponForInvoice(this.ctx, scope, customerId, basis.couponId) : null;
    const discounted = discountLines(currency, lines, coupon ? (amounts) => couponDiscount(coupon as Coupon, amounts, rounding) : null);
    // Prepaid credits bought (a top-up) are not taxed: the invoices they pay are.
    const tax = lines.every((l) => l.kind === 'credits')
      ? { lines: discounted.map((l) => ({ id: l.id, tax: 0 })), inclusive: false, rate: null, note: 'Prepaid credits: taxed on the invoices they pay' }
      : await this.taxOf(scope, customer, currency, discounted, issueAt, rounding);
    const figures = figuresOf(discounted, tax);
    const period = invoicePeriod(basis, issueAt);
    return {
      ...figures,
      currency,
      taxRate: tax.rate,
      taxNote: tax.note,
      couponId: coupon ? (coupon.id as CouponId) : null,
      periodStart: period.start,
      periodEnd: period.end,
    };
  }

  /**
   * What the usage lines of a basis come to now, taxed, before any coupon: the usage
   * charges prepaid credits must cover (wallet/usage-cover.ts). `add` is usage not
   * recorded yet (a consumption being decided), counted as if it were. No minimum
   * commitment: it is owed whatever is used, so it does not decide whether more may be.
   */
  async usageCharges(
    scope: Scope,
    customerId: Subscription['customerId'],
    currency: Currency,
    usage: NonNullable<InvoiceBasis['usage']>,
    issueAt: Date,
    add?: { featureKey: string; quantity: string },
  ): Promise<{ lines: Invoice['lines']; inclusive: boolean }> {
    const customer = await this.ctx.store.customers.get(scope, customerId);
    if (!customer) throw notFound('customer', customerId);
    const { roundingMode: rounding } = (await this.ctx.store.scopes.settings(scope)) ?? DEFAULT_SCOPE_SETTINGS;
    const plan = await this.#plansIn(scope, currency)(usage.planId);
    const lines = (await this.#usageLinesOf(scope, customer, plan, usage, issueAt, rounding, add))?.lines ?? [];
    if (lines.length === 0) return { lines, inclusive: false };
    const tax = await this.taxOf(scope, customer, currency, lines, issueAt, rounding);
    const taxes = new Map(tax.lines.map((t) => [t.id, t.tax]));
    return { lines: lines.map((l) => ({ ...l, tax: taxes.get(l.id) ?? 0 })), inclusive: tax.inclusive };
  }

  /** A reader of plans priced in the invoice's currency (multi-currency), each read once. */
  #plansIn(scope: Scope, currency: Currency): (id: PlanId) => Promise<Plan> {
    const plans = new Map<PlanId, Plan>();
    return async (id) => {
      let p = plans.get(id);
      if (!p) {
        const found = await this.ctx.store.plans.get(scope, id);
        if (!found) throw notFound('plan', id);
        plans.set(id, (p = commitmentIn(pricesIn(found, currency), found))); // multi-currency: the invoice's currency's prices
      }
      return p;
    };
  }

  /** The usage lines of a basis, with the part of a period they cover; null in a trial or an empty range. */
  async #usageLinesOf(
    scope: Scope,
    customer: Customer,
    plan: Plan,
    usage: NonNullable<InvoiceBasis['usage']>,
    issueAt: Date,
    rounding: RoundingMode,
    add?: { featureKey: string; quantity: string },
  ) {
    if (usage.trial || !(usage.end > usage.start)) return null;
    const { values, transactions } = await this.usageValues(scope, customer.id, plan, usage.start, usage.end, usage.overrides);
    if (add) values.set(add.featureKey, new Dec(values.get(add.featureKey) ?? '0').plus(add.quantity).toFixed());
    // Minimums are prorated by the part of a period the usage period is. A preview
    // (upcoming.ts) reads usage up to now for an invoice issued at the period end:
    // its minimums are the period's, not the part elapsed.
    const owedTo = issueAt > usage.end ? issueAt : usage.end;
    // The subscription's zone (fixed when it was made), not the customer's today.
    const zone = usage.timeZone !== undefined ? usage.timeZone : (customer.timeZone ?? null);
    const fraction = periodFraction(plan, { start: usage.start, end: owedTo }, zone);
    return { lines: usageLines(plan, usage.overrides, usage, values, this.extensions.strategies, { rounding, transactions, fraction }), fraction };
  }

  /**
   * The metered features' usage over [from, to): the built-in aggregations in SQL, one
   * round trip; a feature with a custom aggregator from the window's raw events (one
   * read per such feature: see UsageAggregator for the cost).
   */
  private async usageValues(scope: Scope, customerId: Subscription['customerId'], plan: Plan, from: Date, to: Date, overrides: PriceOverrides = {}) {
    const metered = plan.features.filter((f): f is Extract<Feature, { kind: 'metered' }> => f.kind === 'metered');
    const builtIn = metered.filter((f) => f.aggregator === undefined);
    // Percentage prices' per-event sums ride in the same statement (chargeQueries).
    const charges = chargeQueries(plan, overrides);
    const values = await this.ctx.store.usage.aggregateMany(scope, [
      ...builtIn.map((f) => ({ customerId, featureKey: f.key, aggregation: f.aggregation, from, to })),
      ...charges.map((c) => ({ customerId, featureKey: c.featureKey, aggregation: 'sum' as const, from, to, transactions: c.transactions })),
    ]);
    const out = new Map(builtIn.map((f, i) => [f.key, values[i]!]));
    const transactions = new Map<string, TransactionTotals>();
    charges.forEach((c, i) => {
      const v = values[builtIn.length + i]!;
      if (c.reads === 'value') out.set(c.featureKey, v);
      else transactions.set(c.featureKey, { ...(transactions.get(c.featureKey) ?? { count: '0', amount: '0', charge: '0' }), [c.reads]: v });
    });
    for (const f of metered) {
      if (f.aggregator === undefined) continue;
      out.set(f.key, await this.customAggregate(scope, customerId, f, f.aggregator, from, to));
    }
    return { values: out, transactions };
  }

  private async customAggregate(scope: Scope, customerId: Subscription['customerId'], feature: Feature, name: string, from: Date, to: Date): Promise<string> {
    const aggregators = this.extensions.aggregators ?? {};
    const aggregator = Object.hasOwn(aggregators, name) ? aggregators[name] : undefined;
    if (!aggregator) throw invalid(`feature "${feature.key}" names the usage aggregator "${name}", which this engine was not given (createLedger({ aggregators }))`);
    const read = this.ctx.store.usage.eventsIn;
    if (!read) throw invalid(`the usage store cannot read raw events, which the usage aggregator "${name}" needs`);
    const events = await read.call(this.ctx.store.usage, scope, { customerId, featureKey: feature.key, from, to });
    const value = String(aggregator.aggregate(events, { feature, from, to }));
    if (!/^\d+(\.\d+)?$/.test(value)) throw invalid(`usage aggregator "${name}" answered "${value}": a usage value is a non-negative decimal`);
    return value;
  }

  /**
   * The lines' taxes from the tax calculator (the rate table by default). Its answer is
   * checked: one whole number of minor units per line, in the lines' order; an answer
   * that does not fit refuses the invoice (nothing is written).
   */
  private async taxOf(scope: Scope, customer: Customer, currency: Currency, lines: readonly Invoice['lines'][number][], issueAt: Date, rounding: RoundingMode): Promise<TaxResult> {
    const result = await this.extensions.taxCalculator.calculate(scope, {
      customer,
      currency,
      issueAt,
      rounding,
      lines: lines.map((l) => ({ id: l.id, kind: l.kind, description: l.description, featureKey: l.featureKey, quantity: l.quantity, amount: l.amount - l.discount })),
    });
    const bad = (why: string) => invalid(`the tax calculator's answer cannot tax this invoice: ${why}`);
    if (result.lines.length !== lines.length) throw bad(`${result.lines.length} line taxes for ${lines.length} lines`);
    result.lines.forEach((t, i) => {
      if (t.id !== lines[i]!.id) throw bad(`line ${i} is "${t.id}", expected "${lines[i]!.id}"`);
      if (!Number.isSafeInteger(t.tax)) throw bad(`the tax of line "${t.id}" is ${t.tax}, not a whole number of minor units`);
    });
    return result;
  }

  // --- the state machine -----------------------------------------------------------

  /** Gives a draft another basis (what its period end bills changed before it was final). */
  async rebase(scope: Scope, id: string, reason: BillingReason, basis: InvoiceBasis): Promise<Invoice> {
    const inv = await this.get(scope, id);
    if (inv.status !== 'draft') return inv; // finalized meanwhile: it stands as issued
    if (!(await this.ctx.store.invoices.updateDraft(scope, { ...inv, billingReason: reason, basis }))) return this.get(scope, id);
    return this.refresh(scope, id);
  }

  /** Recomputes a draft from its basis: late usage, a changed tax rate or address. */
  async refresh(scope: Scope, id: string): Promise<Invoice> {
    const inv = await this.get(scope, id);
    this.expect(inv, 'draft', 'refresh');
    const content = await this.compute(scope, inv.customerId, inv.currency, inv.basis, inv.issueAt);
    const refreshed: Invoice = { ...inv, ...content, amountDue: Math.max(0, content.total), updatedAt: await this.ctx.customerNow(scope, inv.customerId) };
    if (!(await this.ctx.store.invoices.updateDraft(scope, refreshed))) return this.get(scope, id);
    return refreshed;
  }

  /**
   * draft → open: refreshed one last time, numbered (gap-free, per tenant and app), the
   * customer's details copied, the customer's credit balance in its currency applied,
   * its collection decided (the collector's terms: charged automatically, or sent and due
   * N days later). With nothing due it is paid at once (onInvoicePaid); an automatic one
   * is charged right after (payment/dunning.ts), and a failed charge never undoes it. An invoice that is no
   * longer a draft is an `illegal_state` error; of two finalizations racing, one numbers
   * it and the other gets it back as it is.
   */
  async finalize(scope: Scope, id: string): Promise<Invoice> {
    return (await this.finalizeDraft(scope, id)).invoice;
  }

  /**
   * `finalize`, saying whether this call finalized it (`finalized: false`: a concurrent
   * finalization won, and the invoice is returned as it made it). The billing cycle
   * counts only its own.
   */
  async finalizeDraft(scope: Scope, id: string): Promise<{ invoice: Invoice; finalized: boolean }> {
    // Made again from a fresh computation when another invoice spent the carried-over coupon amount it counted on (coupon/balance.ts).
    return retryWhenBalanceMoved(() => this.finalizeDraftOnce(scope, id));
  }

  private async finalizeDraftOnce(scope: Scope, id: string): Promise<{ invoice: Invoice; finalized: boolean }> {
    this.expect(await this.get(scope, id), 'draft', 'finalize');
    const draft = await this.refresh(scope, id);
    if (draft.status !== 'draft') return { invoice: draft, finalized: false };
    const customer = await this.ctx.store.customers.get(scope, draft.customerId);
    if (!customer) throw notFound('customer', draft.customerId);
    const now = await this.ctx.customerNow(scope, draft.customerId);
    const terms = await this.#collector.terms(scope, customer);
    const numbering = this.numbering(scope, 'invoice', now);
    const done = await this.ctx.events.atomic(scope, async (record) => {
      await spendCouponBalance(this.ctx, scope, draft, now); // with the finalization, or neither
      // The wallet pays what the credit balance left, in this transaction (wallet/service.ts).
      const row = await this.finalizeRow(scope, draft, numbering, customer, terms, now);
      const finalized = row && this.#wallets ? await this.#wallets.applyToInvoice(scope, row, now) : row;
      if (finalized) {
        record({ type: 'invoice.finalized', object: finalized, before: draft });
        if (finalized.status === 'paid') record({ type: 'invoice.paid', object: finalized });
      }
      return finalized;
    });
    if (!done) return { invoice: await this.get(scope, id), finalized: false };
    await this.ctx.plugins.emit('onInvoiceFinalized', scope, done);
    if (done.status === 'paid') await this.ctx.plugins.emit('onInvoicePaid', scope, done);
    else {
      // An automatic charge now. Its failure (or the provider's) never undoes the
      // finalization, nor the change that made the invoice: dunning takes it from here.
      try {
        await this.#collector.finalized(scope, done);
      } catch (e) {
        this.ctx.logger.error('collecting a finalized invoice failed; dunning or the next billing run takes it up', {
          invoiceId: done.id,
          error: e instanceof Error ? e.message : String(e),
        });
      }
    }
    return { invoice: done, finalized: true };
  }

  /** The draft numbered and its figures fixed (one store call: the number is allocated in it). */
  private finalizeRow(scope: Scope, draft: Invoice, numbering: Numbering, customer: Customer, terms: { method: Invoice['collectionMethod']; daysUntilDue: number }, now: Date): Promise<Invoice | null> {
    return this.ctx.store.invoices.finalize(scope, draft.id, numbering, (d, number, credit) => {
      const creditApplied = Math.min(credit, Math.max(0, d.total));
      const amountDue = Math.max(0, d.total - creditApplied - d.credited);
      return {
        ...d,
        number,
        // Nothing due (a credit, or paid by the balance): paid as it is finalized.
        status: amountDue === 0 ? 'paid' : 'open',
        paidAt: amountDue === 0 ? now : null,
        customer: snapshotOf(customer),
        creditApplied,
        amountDue,
        collectionMethod: terms.method,
        dueAt: terms.method === 'send_invoice' ? new Date(now.getTime() + terms.daysUntilDue * DAY_MS) : now,
        finalizedAt: now,
        updatedAt: now,
      };
    });
  }

  // --- collection (dunning's writes: payment/dunning.ts) -----------------------------

  /** The billing cycle's collection work at `now`: retries due, sent invoices coming due. */
  async collectDue(scope: Scope, now: Date, on: OnClock | undefined): Promise<CollectionReport> {
    await this.#wallets?.due(scope, now, on); // credits expiring, recurring grants
    return this.#collector.due(scope, now, on);
  }

  /** The earliest instant by `to` when collection has work; null: none. */
  async nextCollectionDue(scope: Scope, to: Date, on: OnClock | undefined): Promise<Date | null> {
    const [collection, wallets] = await Promise.all([this.#collector.nextDue(scope, to, on), this.#wallets?.nextDue(scope, to, on) ?? null]);
    return collection && wallets ? (collection < wallets ? collection : wallets) : (collection ?? wallets);
  }

  /**
   * A conditional write of an issued invoice's collection state (InvoiceStore.updateCollection).
   * Given the invoice as it was (`before`), the write that first makes it past due records
   * `invoice.past_due` in the same transaction.
   */
  updateCollection(scope: Scope, id: Invoice['id'], expected: CollectionExpectation, patch: CollectionPatch, before?: Invoice): Promise<Invoice | null> {
    return this.ctx.events.atomic(scope, async (record) => {
      const updated = await this.ctx.store.invoices.updateCollection(scope, id, expected, patch);
      if (updated && before && !before.pastDueAt && updated.pastDueAt) record({ type: 'invoice.past_due', object: updated, before });
      return updated;
    });
  }

  listRetriesDue(scope: Scope, at: Date, limit: number, on?: OnClock): Promise<Invoice[]> {
    return this.ctx.store.invoices.listRetriesDue(scope, at, limit, on);
  }

  listPastDue(scope: Scope, at: Date, limit: number, on?: OnClock): Promise<Invoice[]> {
    return this.ctx.store.invoices.listPastDue(scope, at, limit, on);
  }

  /**
   * open or uncollectible → void. What the invoice took is given back in the void's
   * transaction, once (the move is conditional: of two voids at once, one moves it and
   * the other is `illegal_state`): its spend of a carried-over coupon amount goes back to
   * the balance (coupon/balance.ts), the prepaid credits it holds to their grants
   * (wallet/give-back.ts). The customer's credit balance needs nothing: a void invoice's
   * `creditApplied` no longer counts (availableCredit).
   */
  async void(scope: Scope, id: string, input: { reason?: string } = {}): Promise<Invoice> {
    const { reason } = parseInput(voidSchema, input, 'void');
    const inv = await this.move(
      scope,
      id,
      'void',
      (now) => ({ voidedAt: now, voidReason: reason, amountDue: 0, nextPaymentAttemptAt: null }),
      'invoice.voided',
      async (voided, now) => {
        await giveBackCouponBalance(this.ctx, scope, voided, now);
        await this.#wallets?.giveBackVoided(scope, voided, now);
      },
    );
    await this.ctx.plugins.emit('onInvoiceVoided', scope, inv, reason);
    return inv;
  }

  async markUncollectible(scope: Scope, id: string): Promise<Invoice> {
    // No more automatic retries: an uncollectible invoice is paid only when someone pays it.
    return this.move(scope, id, 'uncollectible', (now) => ({ markedUncollectibleAt: now, nextPaymentAttemptAt: null }));
  }

  /** open or uncollectible → paid (payments call this). */
  async markPaid(scope: Scope, id: string): Promise<Invoice> {
    const inv = await this.move(scope, id, 'paid', (now) => ({ paidAt: now, amountDue: 0, nextPaymentAttemptAt: null }), 'invoice.paid');
    await this.ctx.plugins.emit('onInvoicePaid', scope, inv);
    return inv;
  }

  /**
   * A numbered credit note lowering what an issued invoice asks for: first what is still
   * owed, then (on an invoice prepaid credits paid) the credits, given back to the wallet
   * in the note's transaction, then money paid (wallet/give-back.ts: creditsForNote).
   * `refunded`: the note's money is paid back through the provider (refunds.creditNote),
   * so it gives back no credits.
   */
  async createCreditNote(scope: Scope, invoiceId: string, input: CreditNoteInput, options: { refunded?: boolean } = {}): Promise<{ creditNote: CreditNote; invoice: Invoice }> {
    const data = parseInput(creditNoteSchema, input, 'credit note');
    const inv = await this.get(scope, invoiceId);
    if (!['open', 'paid', 'uncollectible'].includes(inv.status)) {
      throw illegalState(`invoice ${inv.id} is ${inv.status}: only an issued invoice (open, paid, uncollectible) takes a credit note`);
    }
    // What the invoice charged, less earlier credit applied to it and credit notes. Its
    // prepaid credits count: a note may give them back.
    const unused = (await this.#wallets?.topUpCreditable(scope, inv)) ?? null;
    if (unused !== null && data.amount > unused) {
      // Credits already used were service given: only the unused ones may be paid back.
      throw invalid(`a credit note on top-up ${inv.number} may credit only its credits not yet used: ${unused} of ${inv.total} are left`, [
        { path: 'amount', message: `at most ${unused}` },
      ]);
    }
    const left = inv.total - inv.creditApplied - inv.credited;
    if (data.amount > left) {
      throw invalid(`a credit note of ${data.amount} exceeds what invoice ${inv.number} has left to credit (${left})`, [
        { path: 'amount', message: `at most ${left}` },
      ]);
    }
    const createdAt = await this.ctx.customerNow(scope, inv.customerId);
    // The note and credit_note.created (the audit trail's entry) commit together.
    const r = await this.ctx.events.atomic(scope, async (record) => {
      const issued = await this.ctx.store.invoices.issueCreditNote(
        scope,
        { id: newId('creditNote'), invoiceId: inv.id, customerId: inv.customerId, amount: data.amount, currency: inv.currency, reason: data.reason, memo: data.memo, createdAt },
        this.numbering(scope, 'credit_note', createdAt),
      );
      if (issued) {
        record({ type: 'credit_note.created', object: issued.note });
        await this.#wallets?.giveBackCredited(scope, issued.invoice, issued.note, options.refunded === true);
      }
      return issued;
    });
    if (!r) throw illegalState(`invoice ${inv.id} changed meanwhile; retry`);
    // Credited down to nothing due: paid (as Stripe does), so its retries stop and its
    // subscription leaves dunning (onInvoicePaid), instead of an open invoice owing 0.
    if ((r.invoice.status === 'open' || r.invoice.status === 'uncollectible') && r.invoice.amountDue === 0) {
      try {
        return { creditNote: r.note, invoice: await this.markPaid(scope, r.invoice.id) };
      } catch (e) {
        if (!isLedgerError(e) || e.code !== 'illegal_state') throw e;
        return { creditNote: r.note, invoice: await this.get(scope, r.invoice.id) }; // settled otherwise meanwhile
      }
    }
    return { creditNote: r.note, invoice: r.invoice };
  }

  /**
   * Records that `amount` of a credit invoice's credit (a negative total: a final invoice
   * after "cancel now with prorate") was refunded through the provider, so it no longer
   * counts in the customer's balance. The refund itself is the caller's (payments).
   * `invalid` for an amount that is not a positive integer or exceeds the credit still
   * unapplied (the invoice's credit less what was refunded of it, and at most the
   * customer's balance); `illegal_state` for an invoice that is not an issued credit
   * invoice. Nothing changes on an error.
   */
  async recordCreditRefund(scope: Scope, invoiceId: string, amount: number): Promise<Invoice> {
    if (!Number.isSafeInteger(amount) || amount <= 0) {
      throw invalid(`a refunded credit is a positive whole number of minor units, not ${amount}`, [{ path: 'amount', message: 'a positive integer' }]);
    }
    const inv = await this.get(scope, invoiceId);
    if (inv.total >= 0 || inv.status === 'draft' || inv.status === 'void') {
      throw illegalState(`invoice ${inv.id} is not an issued credit invoice (it is ${inv.status}, total ${inv.total}): it has no credit to refund`);
    }
    const now = await this.ctx.customerNow(scope, inv.customerId);
    const done = await this.ctx.store.invoices.refundCredit(scope, inv.id, amount, now);
    if (!done) {
      const balance = await this.ctx.store.invoices.creditBalance(scope, inv.customerId, inv.currency);
      const left = Math.min(Math.max(0, -inv.total) - inv.creditRefunded, balance);
      throw invalid(`a refund of ${amount} exceeds the credit of invoice ${inv.number} still unapplied (${Math.max(0, left)})`, [
        { path: 'amount', message: `at most ${Math.max(0, left)}` },
      ]);
    }
    return done;
  }

  private expect(inv: Invoice, status: InvoiceStatus, what: string): void {
    if (inv.status !== status) throw illegalState(`cannot ${what} invoice ${inv.id}: it is ${inv.status}, not ${status}`);
  }

  /**
   * Moves the invoice to `to`; `patch` is given the time of the invoice's customer. `also`
   * runs in the move's transaction, only when this call moved it.
   */
  private async move(
    scope: Scope,
    id: string,
    to: InvoiceStatus,
    patch: (now: Date) => Partial<Invoice>,
    event?: EventType,
    also?: (moved: Invoice, now: Date) => Promise<void>,
  ): Promise<Invoice> {
    const inv = await this.get(scope, id);
    const from = (Object.keys(TRANSITIONS) as InvoiceStatus[]).filter((s) => TRANSITIONS[s].includes(to) && s !== 'draft');
    if (!from.includes(inv.status)) {
      throw illegalState(`invoice ${inv.id} is ${inv.status}: it cannot become ${to} (allowed from ${from.join(' or ')})`);
    }
    const now = await this.ctx.customerNow(scope, inv.customerId);
    const moved = await this.ctx.events.atomic(scope, async (record) => {
      const m = await this.ctx.store.invoices.transition(scope, inv.id, from, { ...patch(now), status: to, updatedAt: now });
      if (m && event) record({ type: event, object: m, before: inv });
      if (m && also) await also(m, now);
      return m;
    });
    if (!moved) throw illegalState(`invoice ${inv.id} changed meanwhile; retry`);
    return moved;
  }
}

export function snapshotOf(c: Customer): CustomerSnapshot {
  return { name: c.name, email: c.email, address: c.address, country: c.country, region: c.region, taxId: c.taxId };
}
