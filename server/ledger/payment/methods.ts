import type { EngineContext } from '../context';
import type { Customer } from '../customer/types';
import { findById, LedgerError, parseInput, type Scope } from '../types';
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
    const updated = await this.ctx.store.payments.setDefaultMethod(scope, method.customerId, method.id);
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
    if (provider) await provider.detachMethod(scope, method);
    const at = await this.ctx.customerNow(scope, method.customerId);
    const detached = await this.ctx.store.payments.detachMethod(scope, method.id, at);
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
    return provider.startSetup(scope, customer as Customer, { successUrl: data.successUrl, cancelUrl: data.cancelUrl });
  }
}
