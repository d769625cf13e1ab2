import { describe, it, expect } from 'vitest';
import { ledgerErrorOf } from '../support/errors';
import fc from 'fast-check';
import { currency, money } from '@/server/ledger/types/money';
import { taxForLine, taxForLines, type TaxRate } from '@/server/ledger/tax/calculate';

const USD = currency('USD');
const JPY = currency('JPY');
const KWD = currency('KWD');
const usd = (cents: number) => money(cents, USD);
const exclusive = (percentage: string): TaxRate => ({ percentage, inclusive: false });
const inclusive = (percentage: string): TaxRate => ({ percentage, inclusive: true });


describe('exclusive tax is added on top of each line, rounded per line', () => {
  it("Stripe's example: exact line taxes 0.0645 and 0.7265 round to 0.06 and 0.73; the invoice tax is 0.79", () => {
    const invoice = taxForLines(USD, [
      { amount: usd(100), rate: exclusive('6.45') }, // $1.00 × 6.45 % = 0.0645
      { amount: usd(1000), rate: exclusive('7.265') }, // $10.00 × 7.265 % = 0.7265
    ]);
    expect(invoice.lines.map((l) => l.tax.amount)).toEqual([6, 73]);
    expect(invoice.tax).toEqual(usd(79));
    expect(invoice.net).toEqual(usd(1100));
    expect(invoice.total).toEqual(usd(1179));
  });

  it('the invoice tax is the sum of rounded line taxes, not the rounded sum: two $1.00 lines at 6.45 % pay 0.12, not 0.13', () => {
    const invoice = taxForLines(USD, [
      { amount: usd(100), rate: exclusive('6.45') },
      { amount: usd(100), rate: exclusive('6.45') },
    ]);
    expect(invoice.tax.amount).toBe(12);
  });

  it('$49.99 at 8.875 % is 443.66… cents -> $4.44 tax, $54.43 total', () => {
    expect(taxForLine(usd(4999), exclusive('8.875'))).toEqual({ tax: usd(444), net: usd(4999), total: usd(5443) });
  });

  it('an exact half rounds away from zero: 10 cents at 5 % is 0.5 cents -> 1 cent', () => {
    expect(taxForLine(usd(10), exclusive('5')).tax.amount).toBe(1);
  });

  it('a 0 % rate adds nothing', () => {
    expect(taxForLine(usd(4999), exclusive('0'))).toEqual({ tax: usd(0), net: usd(4999), total: usd(4999) });
  });

  it('rounds to the currency: ¥333 at 10 % is ¥33.3 -> ¥33; 1.234 KWD at 5 % is 61.7 fils -> 0.062 KWD', () => {
    expect(taxForLine(money(333, JPY), exclusive('10')).tax).toEqual(money(33, JPY));
    expect(taxForLine(money(1234, KWD), exclusive('5')).tax).toEqual(money(62, KWD));
  });
});

describe('inclusive tax is already inside the line amount', () => {
  it('$10.00 including 20 % VAT: tax 10 − 10/1.2 = 1.666… -> $1.67, net $8.33, total $10.00', () => {
    expect(taxForLine(usd(1000), inclusive('20'))).toEqual({ tax: usd(167), net: usd(833), total: usd(1000) });
  });

  it('$12.50 including 25 %: exactly $2.50 tax on $10.00 net', () => {
    expect(taxForLine(usd(1250), inclusive('25'))).toEqual({ tax: usd(250), net: usd(1000), total: usd(1250) });
  });

  it('an exact half rounds away from zero: 3 cents including 20 % hold 0.5 cents of tax -> 1 cent, net 2', () => {
    expect(taxForLine(usd(3), inclusive('20'))).toEqual({ tax: usd(1), net: usd(2), total: usd(3) });
  });

  it('¥1,000 including 10 %: tax ¥90.9… -> ¥91, net ¥909', () => {
    expect(taxForLine(money(1000, JPY), inclusive('10'))).toEqual({
      tax: money(91, JPY),
      net: money(909, JPY),
      total: money(1000, JPY),
    });
  });

  it('an invoice mixing inclusive lines sums the per-line rounded taxes: 3 × $10.00 incl. 20 % = 3 × 1.67 = $5.01', () => {
    const line = { amount: usd(1000), rate: inclusive('20') };
    const invoice = taxForLines(USD, [line, line, line]);
    expect(invoice.tax.amount).toBe(501); // rounding the exact 5.00 total would give 500
    expect(invoice.net.amount).toBe(2499);
    expect(invoice.total.amount).toBe(3000);
  });
});

describe('credit lines get tax symmetric to the charge they reverse', () => {
  it('−$1.00 at 6.45 % exclusive: tax −0.06, total −1.06', () => {
    expect(taxForLine(usd(-100), exclusive('6.45'))).toEqual({ tax: usd(-6), net: usd(-100), total: usd(-106) });
  });

  it('−$10.00 at 7.265 % exclusive: −0.7265 -> −0.73 (half away from zero, not towards +∞)', () => {
    expect(taxForLine(usd(-1000), exclusive('7.265')).tax.amount).toBe(-73);
  });

  it('−$10.00 including 20 %: tax −1.67, net −8.33; −3 cents: tax −1, net −2', () => {
    expect(taxForLine(usd(-1000), inclusive('20'))).toEqual({ tax: usd(-167), net: usd(-833), total: usd(-1000) });
    expect(taxForLine(usd(-3), inclusive('20'))).toEqual({ tax: usd(-1), net: usd(-2), total: usd(-3) });
  });

  it('a charge and its full credit on one invoice net to zero tax', () => {
    const invoice = taxForLines(USD, [
      { amount: usd(1000), rate: exclusive('7.265') },
      { amount: usd(-1000), rate: exclusive('7.265') },
    ]);
    expect(invoice.lines.map((l) => l.tax.amount)).toEqual([73, -73]);
    expect(invoice.tax.amount).toBe(0);
    expect(invoice.total.amount).toBe(0);
  });
});

describe('bad input', () => {
  it.each(['-5', 'abc', '1e2', '', '6,45'])('the tax percentage %j is invalid', (pct) => {
    expect(ledgerErrorOf(() => taxForLine(usd(100), exclusive(pct))).code).toBe('invalid');
  });

  it('an invoice has no tax in another currency', () => {
    expect(ledgerErrorOf(() => taxForLines(USD, [{ amount: money(100, JPY), rate: exclusive('10') }])).code).toBe('invalid');
  });

  it('an invoice with no lines has zero tax, net and total', () => {
    expect(taxForLines(USD, [])).toEqual({ lines: [], tax: usd(0), net: usd(0), total: usd(0) });
  });
});

// ---- properties ---------------------------------------------------------------------

const amountArb = fc.integer({ min: -1_000_000_000_000, max: 1_000_000_000_000 });
/** A percentage with two decimals, 0.00 to 100.00, as hundredths. */
const hundredthsArb = fc.integer({ min: 0, max: 10_000 });
const pctString = (hundredths: number) => (hundredths / 100).toFixed(2);

/** Independent reference: round(n / d) half away from zero, in integers (d > 0). */
function halfAwayFromZero(n: bigint, d: bigint): number {
  const abs = n < 0n ? -n : n;
  const rounded = Number((2n * abs + d) / (2n * d));
  return n < 0n && rounded !== 0 ? -rounded : rounded;
}

describe('tax properties', () => {
  it('exclusive: tax = round(amount × pct / 100); net is the amount; total = net + tax', () => {
    fc.assert(
      fc.property(amountArb, hundredthsArb, (a, h) => {
        const line = taxForLine(usd(a), exclusive(pctString(h)));
        expect(line.tax.amount).toBe(halfAwayFromZero(BigInt(a) * BigInt(h), 10_000n));
        expect(line.net.amount).toBe(a);
        expect(line.total.amount).toBe(a + line.tax.amount);
        expect(Number.isSafeInteger(line.total.amount)).toBe(true);
      }),
    );
  });

  it('inclusive: tax = round(amount × pct / (100 + pct)); net + tax is the amount; |tax| ≤ |amount|', () => {
    fc.assert(
      fc.property(amountArb, hundredthsArb, (a, h) => {
        const line = taxForLine(usd(a), inclusive(pctString(h)));
        expect(line.tax.amount).toBe(halfAwayFromZero(BigInt(a) * BigInt(h), 10_000n + BigInt(h)));
        expect(line.net.amount + line.tax.amount).toBe(a);
        expect(line.total.amount).toBe(a);
        expect(Math.abs(line.tax.amount)).toBeLessThanOrEqual(Math.abs(a));
      }),
    );
  });

  it('a credit line gets exactly the negative of the tax of the matching charge', () => {
    fc.assert(
      fc.property(amountArb, hundredthsArb, fc.boolean(), (a, h, incl) => {
        const rate = { percentage: pctString(h), inclusive: incl };
        expect(taxForLine(usd(-a), rate).tax.amount + taxForLine(usd(a), rate).tax.amount).toBe(0);
      }),
    );
  });

  it("an invoice's tax, net and total are the sums of its lines", () => {
    const lineArb = fc.record({ a: amountArb, h: hundredthsArb, incl: fc.boolean() });
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 20 }), (specs) => {
        const lines = specs.map(({ a, h, incl }) => ({ amount: usd(a), rate: { percentage: pctString(h), inclusive: incl } }));
        const invoice = taxForLines(USD, lines);
        const each = lines.map((l) => taxForLine(l.amount, l.rate));
        expect(invoice.tax.amount).toBe(each.reduce((s, l) => s + l.tax.amount, 0));
        expect(invoice.total.amount).toBe(invoice.net.amount + invoice.tax.amount);
      }),
    );
  });
});
