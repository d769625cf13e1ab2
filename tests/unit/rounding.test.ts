import { describe, expect, it } from 'vitest';
import { priceQuantity } from '@/server/ledger/plan/pricing';
import { taxForLine } from '@/server/ledger/tax/calculate';
import { currency, Dec, fromMajor, money, multiply, roundToMinor } from '@/server/ledger/types';

/**
 * Rounding modes: half away from zero (Ledger's default) and half to even (a scope's
 * choice). Only exact ties differ. And how an inclusive tax is rounded, with the example
 * where rounding the tax (Ledger) and rounding the net (Zuora's default) part ways.
 */
const USD = currency('USD');
const JPY = currency('JPY');

describe('rounding modes', () => {
  it('half away from zero: 0.125 → 0.13, 0.135 → 0.14, −0.125 → −0.13; half to even: 0.12, 0.14, −0.12', () => {
    expect(['12.5', '13.5', '-12.5', '12.4', '12.6'].map((m) => roundToMinor(new Dec(m)))).toEqual([13, 14, -13, 12, 13]);
    expect(['12.5', '13.5', '-12.5', '12.4', '12.6'].map((m) => roundToMinor(new Dec(m), 'half_even'))).toEqual([12, 14, -12, 12, 13]);
  });

  it('fromMajor and multiply take the mode: 0.125 USD → 13 or 12 cents; 2.5 JPY → 3 or 2 yen; 250 cents × 0.05 → 13 or 12', () => {
    expect([fromMajor('0.125', USD).amount, fromMajor('0.125', USD, 'half_even').amount]).toEqual([13, 12]);
    expect([fromMajor('2.5', JPY).amount, fromMajor('2.5', JPY, 'half_even').amount]).toEqual([3, 2]);
    expect([multiply(money(250, USD), '0.05').amount, multiply(money(250, USD), '0.05', 'half_even').amount]).toEqual([13, 12]);
  });

  it('a line is rounded once in the mode: 25 calls at 0.005 = 0.125 → 0.13 (default) or 0.12 (half even); 27 calls = 0.135 → 0.14 in both', () => {
    const p = { model: 'per_unit' as const, unitPrice: '0.005' };
    expect(priceQuantity(p, '25', 0, USD).amount.amount).toBe(13);
    expect(priceQuantity(p, '25', 0, USD, {}, 'half_even').amount.amount).toBe(12);
    expect(priceQuantity(p, '27', 0, USD, {}, 'half_even').amount.amount).toBe(14);
  });

  it('an unknown mode is refused', () => {
    expect(() => roundToMinor(new Dec('1.5'), 'up' as never)).toThrow(/rounding mode/);
  });
});

describe('inclusive tax rounding (documented)', () => {
  it('10.05 including 20 % VAT: Ledger rounds the tax (167.5 → 1.68, net 8.37); rounding the net as Zuora does would give net 8.38 and tax 1.67', () => {
    const t = taxForLine(money(1005, USD), { percentage: '20', inclusive: true });
    expect([t.tax.amount, t.net.amount, t.total.amount]).toEqual([168, 837, 1005]);
    // Zuora's default for inclusive prices: net = round(10.05 / 1.2) = round(8.375) = 8.38; tax = 10.05 − 8.38.
    const zuoraNet = roundToMinor(new Dec(1005).div('1.2'));
    expect([1005 - zuoraNet, zuoraNet]).toEqual([167, 838]);
    // Away from a tie the two agree: 10.00 incl. 20 % is 1.67 tax and 8.33 net either way.
    const even = taxForLine(money(1000, USD), { percentage: '20', inclusive: true });
    expect([even.tax.amount, even.net.amount, 1000 - roundToMinor(new Dec(1000).div('1.2'))]).toEqual([167, 833, 167]);
  });
});
