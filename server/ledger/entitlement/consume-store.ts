import type { UsageQuery } from '../meter/types';
import type { CustomerId, Scope } from '../types';

/**
 * What `entitlements.consume` needs from storage (besides the usage store, which keeps
 * the usage events themselves): the answers of allowed consumptions by idempotency key,
 * and a lock per customer and feature under which the period's usage is read and the
 * new event written in one transaction.
 */
export interface StoredConsumption {
  idempotencyKey: string;
  customerId: CustomerId;
  featureKey: string;
  /** Exact decimal string. */
  quantity: string;
  eventId: string;
  /** Usage of the period after this consumption (exact decimal string). */
  used: string;
  /** The limit it was checked against (exact decimal string); null: unlimited. */
  limit: string | null;
  periodStart: Date;
  createdAt: Date;
}

export interface ConsumptionStore {
  /**
   * Runs `work` in one transaction holding a lock of the customer's feature, so that
   * consumptions of it, in every process on this database, run one after the other:
   * PostgreSQL, a transaction-scoped advisory lock; memory, an in-process queue.
   * The store calls `work` makes (usage reads and writes included) join the transaction.
   */
  locked<T>(scope: Scope, customerId: CustomerId, featureKey: string, work: () => Promise<T>): Promise<T>;
  /** The period's usage, read inside `locked` (inside its transaction). */
  usage(scope: Scope, query: UsageQuery): Promise<string>;
  /** The consumption recorded under an idempotency key, or null. */
  get(scope: Scope, idempotencyKey: string): Promise<StoredConsumption | null>;
  /** Records consumptions; a key already recorded is kept as it is (never overwritten). */
  insert(scope: Scope, rows: readonly StoredConsumption[]): Promise<void>;
}
