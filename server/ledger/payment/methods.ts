import type { EngineContext } from '../context';
import type { Customer } from '../customer/types';
import { findById, isLedgerError, LedgerError, parseInput, type Scope } from '../types';
import { z } from 'zod';
import type { PaymentProvider } from './provider';
import type { PaymentService } from './service';
import type { PaymentMethod } from './types';

const setupSessionSchema = z
  .object({
    customerId: z.string(),
    successUrl: z.string().max(2000).url(),
    cancelUrl: z.string().max(2000).url(),
  })
  .strict();
export type SetupSessionInput = z.input<typeof setupSessionSchema>;

/**
 * A customer's saved payment methods: list, choose the default, detach; and the hosted
 * set-up of a new one through the scope's provider (Stripe: Checkout in setup mode; the
 * sandbox: its own add-a-card page).
 *
 * Detaching the default leaves the customer with none, as Stripe does (its
 * `invoice_settings.default_payment_method` becomes null): no card the customer did not
 * choose is charged automatically; the next invoice waits for a payment or a new default.
 */
export class PaymentMethods {
  constructor(
    private readonly ctx: EngineContext,
    private readonly payments: PaymentService,
    private readonly providers: ReadonlyMap<string, PaymentProvider>,
  ) {}

  /** The customer's attached methods, oldest first; `not_found` for a customer not in the scope. */
  list(scope: Scope, customerId: string): Promise<PaymentMethod[]> {
    return this.payments.methods(scope, customerId);
  }

  /** An attached method of the scope; `not_found` for an unknown, detached or other scope's id. */
  async get(scope: Scope, methodId: string): Promise<PaymentMethod> {
    const method = await findById('paymentMethod', methodId, (id) => this.ctx.store.payments.getMethod(scope, id));
    if (method.detachedAt) throw new LedgerError('not_found', `payment method ${method.id} not found (it was detached)`);
    return method;
  }

  /** Makes the method its customer's one default (the one charged automatically); the others stop being so, in one transaction. */
  async setDefault(scope: Scope, methodId: string): Promise<PaymentMethod> {
    const method = await this.get(scope, methodId);
    const updated = await this.ctx.events.atomic(scope, async (record) => {
      const m = await this.ctx.store.payments.setDefaultMethod(scope, method.customerId, method.id);
      if (m) record({ type: 'payment_method.updated', object: m, before: method });
      return m;
    });
    // Detached between the read and the write.
    if (!updated) throw new LedgerError('not_found', `payment method ${method.id} not found (it was detached)`);
    return updated;
  }

  /**
   * Detaches the method at its provider, then records it detached: it is no longer
   * listed nor charged. Detaching the default leaves the customer with no default (see
   * the class comment). A provider that refuses throws, and nothing is recorded.
   */
  async detach(scope: Scope, methodId: string): Promise<PaymentMethod> {
    const method = await this.get(scope, methodId);
    const provider = this.providers.get(method.provider);
    // A method of a provider no longer configured is only forgotten here.
    if (provider) await atProvider(this.ctx, provider.name, 'a detach', () => provider.detachMethod(scope, method));
    const at = await this.ctx.customerNow(scope, method.customerId);
    const detached = await this.ctx.events.atomic(scope, async (record) => {
      const m = await this.ctx.store.payments.detachMethod(scope, method.id, at);
      if (m) record({ type: 'payment_method.detached', object: m, before: method });
      return m;
    });
    if (!detached) throw new LedgerError('not_found', `payment method ${method.id} not found (it was detached)`);
    return detached;
  }

  /**
   * A hosted set-up of a new payment method for the customer, through the scope's
   * provider: `{ url }` to send the customer to; they come back to `successUrl` (or
   * `cancelUrl`). The method arrives by the provider's webhook (Stripe) or at once (the
   * sandbox's page).
   */
  async createSetupSession(scope: Scope, input: SetupSessionInput): Promise<{ url: string }> {
    const data = parseInput(setupSessionSchema, input, 'setup session');
    const customer = await findById('customer', data.customerId, (id) => this.ctx.store.customers.get(scope, id));
    const provider = await this.payments.providerFor(scope);
    return atProvider(this.ctx, provider.name, 'a set-up session', () => provider.startSetup(scope, customer as Customer, { successUrl: data.successUrl, cancelUrl: data.cancelUrl }));
  }
}

/**
 * A call to a provider whose failure the caller answers: an engine error as it is; any
 * other (a network error, the provider's 5xx, its SDK's own errors) logged and answered
 * as a typed `conflict` ("try again") naming the provider, never as a 500, and without
 * the provider's own words (they may name hosts or accounts). Nothing was recorded.
 */
export async function atProvider<T>(ctx: EngineContext, provider: string, what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (isLedgerError(e)) throw e;
    ctx.logger.warn('a payment provider call failed', { provider, call: what, error: e instanceof Error ? e.message : String(e) });
    throw new LedgerError('conflict', `the payment provider "${provider}" did not complete ${what}; nothing was changed: try again`);
  }
}
