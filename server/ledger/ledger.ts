import type { EngineContext } from './context';
import { CustomerService } from './customer/service';
import { PlanService } from './plan/service';
import type { Plugin } from './plugin/hooks';
import { PluginRegistry } from './plugin/registry';
import { createMemoryStore } from './store/memory';
import type { Store } from './store/store';
import { SubscriptionService } from './subscription/service';
import { consoleLogger, systemClock, type Clock, type Logger } from './types';

export interface LedgerOptions {
  /** Where state lives; an in-memory store when omitted. */
  store?: Store;
  plugins?: readonly Plugin[];
  clock?: Clock;
  logger?: Logger;
}

/**
 * The engine. Every method of every service takes a `Scope` first; nothing is global,
 * so two engines (two tests, two tenants' sandboxes) never share state.
 */
export interface Ledger {
  readonly customers: CustomerService;
  readonly plans: PlanService;
  readonly subscriptions: SubscriptionService;
  readonly plugins: PluginRegistry;
  readonly store: Store;
  readonly clock: Clock;
  /** Runs every plugin's onShutdown. Idempotent. */
  shutdown(): Promise<void>;
}

export async function createLedger(options: LedgerOptions = {}): Promise<Ledger> {
  const logger = options.logger ?? consoleLogger;
  const ctx: EngineContext = {
    store: options.store ?? createMemoryStore(),
    plugins: new PluginRegistry(logger, options.plugins),
    clock: options.clock ?? systemClock,
    logger,
  };
  await ctx.plugins.emit('onInit');
  let stopped: Promise<void> | null = null;
  return {
    customers: new CustomerService(ctx),
    plans: new PlanService(ctx),
    subscriptions: new SubscriptionService(ctx),
    plugins: ctx.plugins,
    store: ctx.store,
    clock: ctx.clock,
    shutdown: () => (stopped ??= ctx.plugins.emit('onShutdown')),
  };
}
