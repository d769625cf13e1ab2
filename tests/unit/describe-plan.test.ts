import { describe, expect, it } from 'vitest';
import { describeFeature, intervalText, unitPriceText } from '@/app/plans/describe';
import { currency, type Feature } from '@/server/ledger';

const USD = currency('USD');

describe('pricing table wording', () => {
  it('shows every decimal of a unit price', () => {
    expect(unitPriceText('0.0004', USD)).toBe('$0.0004');
    expect(unitPriceText('8', USD)).toBe('$8');
    expect(unitPriceText('500', currency('JPY'))).toBe('¥500');
  });

  it('names intervals', () => {
    expect(intervalText({ unit: 'month', count: 1 })).toBe('per month');
    expect(intervalText({ unit: 'month', count: 3 })).toBe('every 3 months');
  });

  it('shows graduated tiers as ranges', () => {
    const f = {
      id: 'fea_x',
      key: 'api_calls',
      name: 'API calls',
      kind: 'metered',
      aggregation: 'sum',
      limit: null,
      includedUnits: 100_000,
      unitName: 'call',
      price: { model: 'graduated', tiers: [{ upTo: 1_000_000, unitPrice: '0.0004', flatFee: 0 }, { upTo: null, unitPrice: '0.0002', flatFee: 500 }] },
    } as unknown as Feature;
    const d = describeFeature(f, USD);
    expect(d.summary).toBe('100,000 calls included, then graduated pricing');
    expect(d.tiers).toEqual(['1–1,000,000: $0.0004 per call', '1,000,001 and above: $0.0002 per call + $5.00']);
  });

  it('boolean features say whether they are included', () => {
    expect(describeFeature({ id: 'fea_x', key: 'sso', name: 'SSO', kind: 'boolean', enabled: false } as Feature, USD).summary).toBe('Not included');
  });
});
