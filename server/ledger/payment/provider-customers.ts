import type { EngineContext } from '../context';
import type { Customer } from '../customer/types';
import { isLedgerError, type Scope } from '../types';
import type { PaymentProvider } from './provider';
import type { ProviderCustomer } from './types';

/**
 * Customers' ids at the providers (Stripe's `cus_…`), recorded once in the scope when a
 * provider's `ensureCustomer` answers through the engine. A webhook about a provider
 * customer (its payment methods, its deletion) names a scope in its metadata; it is
 * applied only when that scope's record holds the provider customer, so metadata alone is
 * never trusted.
 *
 * The engine hands every part of it the providers `wrap`ped: `ensureCustomer` records
 * the id it answers, and `startSetup` and `listMethods` (which reach the provider's
 * customer) make sure it was recorded first. Everything else passes through untouched
 * (the sandbox's own operations included).
 */
export class ProviderCustomers {
  constructor(private readonly ctx: EngineContext) {}

  get(scope: Scope, customerId: Customer['id'], provider: string): Promise<ProviderCustomer | null> {
    return this.ctx.store.payments.getProviderCustomer(scope, customerId, provider);
  }

  /** Asks the provider for the customer's id there (creating it if need be) and records it once. */
  async ensure(scope: Scope, provider: PaymentProvider, customer: Customer, ensure = provider.ensureCustomer.bind(provider)): Promise<{ providerCustomerId: string }> {
    const answer = await ensure(scope, customer);
    try {
      const stored = await this.ctx.store.payments.putProviderCustomer(scope, {
        customerId: customer.id,
        provider: provider.name,
        providerCustomerId: answer.providerCustomerId,
        createdAt: await this.ctx.customerNow(scope, customer.id),
        deletedAt: null,
      });
      if (stored.providerCustomerId !== answer.providerCustomerId && stored.deletedAt === null) {
        this.ctx.logger.warn('the provider answered another customer id than the one recorded; the recorded one stands', {
          provider: provider.name,
          customerId: customer.id,
          recorded: stored.providerCustomerId,
          answered: answer.providerCustomerId,
        });
      }
    } catch (e) {
      if (!isLedgerError(e)) throw e;
      // The provider id is another customer's in this scope: never attach webhooks to the wrong one.
      this.ctx.logger.error('a provider customer id could not be recorded', { provider: provider.name, customerId: customer.id, providerCustomerId: answer.providerCustomerId, error: e.message });
    }
    return answer;
  }

  /** The provider, its customer ids recorded as it answers them. */
  wrap(provider: PaymentProvider): PaymentProvider {
    const ensure = provider.ensureCustomer.bind(provider);
    const recorded = async (scope: Scope, customer: Customer) => {
      const known = await this.get(scope, customer.id, provider.name);
      if (!known || known.deletedAt) await this.ensure(scope, provider, customer, ensure);
    };
    const overrides: Partial<PaymentProvider> = {
      ensureCustomer: (scope, customer) => this.ensure(scope, provider, customer, ensure),
      startSetup: async (scope, customer, urls) => {
        await recorded(scope, customer);
        return provider.startSetup(scope, customer, urls);
      },
      listMethods: async (scope, customer) => {
        await recorded(scope, customer);
        return provider.listMethods(scope, customer);
      },
    };
    return new Proxy(provider, {
      get(target, prop, receiver) {
        if (typeof prop === 'string' && prop in overrides) return overrides[prop as keyof PaymentProvider];
        const value: unknown = Reflect.get(target, prop, receiver);
        // Methods run on the provider itself (its private state, `this`), not on the proxy.
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }
}
