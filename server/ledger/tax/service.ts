import type { EngineContext } from '../context';
import type { Customer } from '../customer/types';
import {
  conflict,
  findById,
  newId,
  notFound,
  parseInput,
  toPage,
  type Page,
  type Scope,
} from '../types';
import {
  createTaxRateSchema,
  listTaxRatesSchema,
  normalizeRegion,
  placeOf,
  updateTaxRateSchema,
  type CreateTaxRateInput,
  type ListTaxRatesInput,
  type TaxDecision,
  type TaxRateRecord,
  type UpdateTaxRateInput,
} from './types';

/**
 * Tax rates by country and region, and the decision of which one (if any) a customer's
 * invoice uses. A rate's percentage never changes: a new percentage is a new rate, and
 * the old one is deactivated, so invoices already issued keep pointing at what they used.
 */
export class TaxRateService {
  constructor(protected readonly ctx: EngineContext) {}

  /** Conflict when `active` and another active rate exists for the same country and region. */
  async create(scope: Scope, input: CreateTaxRateInput): Promise<TaxRateRecord> {
    const data = parseInput(createTaxRateSchema, input, 'tax rate');
    const now = this.ctx.now(scope);
    const rate: TaxRateRecord = { id: newId('taxRate'), ...data, createdAt: now, updatedAt: now };
    await this.ctx.events.atomic(scope, async (record) => {
      await this.ctx.store.taxRates.insert(scope, rate);
      record({ type: 'tax_rate.created', object: rate, customerId: null });
    });
    return rate;
  }

  get(scope: Scope, id: string): Promise<TaxRateRecord> {
    return findById('taxRate', id, (rid) => this.ctx.store.taxRates.get(scope, rid));
  }

  /** Oldest first; active rates only unless `includeInactive`; optionally one country's. */
  async list(scope: Scope, input: ListTaxRatesInput = {}): Promise<Page<TaxRateRecord>> {
    const { country, includeInactive, ...page } = parseInput(listTaxRatesSchema, input, 'tax rate list');
    const rows = await this.ctx.store.taxRates.list(scope, page, { country, includeInactive });
    return toPage(rows, page.limit);
  }

  /**
   * Renames, describes, deactivates (how a rate is retired) or reactivates a rate.
   * Reactivating while another rate is active for its country and region is a conflict.
   */
  async update(scope: Scope, id: string, patch: UpdateTaxRateInput): Promise<TaxRateRecord> {
    const data = parseInput(updateTaxRateSchema, patch, 'tax rate update');
    const old = await this.get(scope, id);
    const { displayName = old.displayName, description = old.description, active = old.active } = data;
    const updated: TaxRateRecord = { ...old, displayName, description, active, updatedAt: this.ctx.now(scope) };
    if (active && !old.active) {
      const other = await this.ctx.store.taxRates.findActive(scope, old.country, old.region);
      if (other) {
        throw conflict(
          `tax rate ${other.id} is already active for ${placeOf(old.country, old.region)}: deactivate it before reactivating ${old.id}`,
        );
      }
    }
    // The store checks again (a unique index in SQL), for a rate activated meanwhile.
    await this.ctx.events.atomic(scope, async (record) => {
      if (!(await this.ctx.store.taxRates.update(scope, updated))) throw notFound('tax rate', old.id);
      // Deactivating is how a rate is retired: its archival, as a coupon's or a plan's.
      record({ type: old.active && !updated.active ? 'tax_rate.archived' : 'tax_rate.updated', object: updated, before: old, customerId: null });
    });
    return updated;
  }

  /**
   * The tax a customer's invoice carries: none for an exempt customer or a reverse
   * charge, whatever rates exist; otherwise the active rate of the customer's region,
   * else the country's default rate, else none (with the reason an invoice prints).
   * Regions match case-insensitively.
   */
  async rateFor(scope: Scope, customer: Customer): Promise<TaxDecision> {
    if (customer.taxStatus === 'exempt') return { kind: 'exempt', reason: 'Tax exempt' };
    if (customer.taxStatus === 'reverse_charge') {
      const reason = 'Reverse charge: the customer accounts for VAT';
      return { kind: 'reverse_charge', reason: customer.taxId ? `${reason} (VAT id ${customer.taxId})` : reason };
    }
    const country = customer.country?.trim().toUpperCase();
    if (!country) return { kind: 'none', reason: 'No billing country' };
    const region = normalizeRegion(customer.region);
    const rates = this.ctx.store.taxRates;
    const rate = (region !== null ? await rates.findActive(scope, country, region) : null) ?? (await rates.findActive(scope, country, null));
    if (rate) return { kind: 'rate', rate };
    return { kind: 'none', reason: `No tax rate for ${placeOf(country, region)}` };
  }
}
