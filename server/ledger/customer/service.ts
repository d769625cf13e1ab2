import type { TestClock, TestClocks } from '../billing/test-clocks';
import type { EngineContext } from '../context';
import { checkCurrencyChange } from './currency';
import {
  findById,
  newId,
  notFound,
  pageOf,
  parseInput,
  quote,
  type Page,
  type PageInput,
  type Scope,
} from '../types';
import {
  createCustomerSchema,
  updateCustomerSchema,
  type CreateCustomerInput,
  type Customer,
  type UpdateCustomerInput,
} from './types';

export class CustomerService {
  constructor(
    private readonly ctx: EngineContext,
    private readonly clocks: TestClocks,
  ) {}

  /**
   * A new customer. With `testClockId` (test scopes only: `illegal_state` in a live
   * scope; `not_found` for a clock the scope does not have) it is created on that test
   * clock, for good: it is created at the clock's time and lives at it.
   */
  async create(scope: Scope, input: CreateCustomerInput): Promise<Customer> {
    const { testClockId, ...data } = parseInput(createCustomerSchema, input, 'customer');
    const clock: TestClock | null = testClockId ? await this.clocks.forNewCustomer(scope, testClockId) : null;
    const now = clock ? clock.now : this.ctx.now(scope);
    const customer: Customer = { id: newId('customer'), ...data, testClockId: clock?.id ?? null, createdAt: now, updatedAt: now };
    await this.ctx.events.atomic(scope, async (record) => {
      await this.ctx.store.customers.insert(scope, customer);
      record({ type: 'customer.created', object: customer });
    });
    if (clock) this.clocks.attached(scope, customer.id, clock);
    await this.ctx.plugins.emit('onCustomerCreated', scope, customer);
    return customer;
  }

  get(scope: Scope, id: string): Promise<Customer> {
    return findById('customer', id, (cid) => this.ctx.store.customers.get(scope, cid));
  }

  async getByExternalId(scope: Scope, externalId: string): Promise<Customer> {
    const c = await this.ctx.store.customers.getByExternalId(scope, externalId);
    if (!c) throw notFound('customer with external id', quote(externalId, 64));
    return c;
  }

  list(scope: Scope, page: PageInput = {}): Promise<Page<Customer>> {
    return pageOf(page, (p) => this.ctx.store.customers.list(scope, p));
  }

  async update(scope: Scope, id: string, patch: UpdateCustomerInput): Promise<Customer> {
    const data = parseInput(updateCustomerSchema, patch, 'customer update');
    const old = await this.get(scope, id);
    await checkCurrencyChange(this.ctx, scope, old, data.currency);
    await this.ctx.customerSeen(scope, old);
    const updated: Customer = { ...old, ...data, updatedAt: this.ctx.now(scope, old.id) };
    await this.ctx.events.atomic(scope, async (record) => {
      if (!(await this.ctx.store.customers.update(scope, updated))) throw notFound('customer', old.id);
      record({ type: 'customer.updated', object: updated, before: old });
    });
    await this.ctx.plugins.emit('onCustomerUpdated', scope, old, updated);
    return updated;
  }
}
