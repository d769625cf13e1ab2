import type { TaxRateStore } from '../tax/store';

export function createMemoryTaxRateStore(): TaxRateStore {
  return {};
}
