import type { Database } from '../../../db/client';
import type { TaxRateStore } from '../tax/store';

export function createPostgresTaxRateStore(_db: Database): TaxRateStore {
  return {};
}
