/** Ledger's engine: framework-free; import from here. */
export { createLedger, type Ledger, type LedgerOptions } from './ledger';
export { listPlansSchema, type ListPlansInput } from './plan/service';
export * from './types';
export type { Store } from './store/store';
export { createMemoryStore } from './store/memory';
export { createPostgresStore } from './store/postgres';
export * from './customer/types';
export * from './plan/types';
export * from './subscription/types';
export { addInterval, nthPeriod, periodFor, type BillingPeriod } from './subscription/period';
export { HOOK_NAMES, type HookName, type LedgerHooks, type Plugin, type Period } from './plugin/hooks';
export { PluginRegistry } from './plugin/registry';
export { MeterService } from './meter/service';
export * from './meter/types';
export type { UsageObserver } from './meter/observer';
export type { UsageStore, InsertUsageResult } from './meter/store';
export { flushOnSignals } from './shutdown';
