import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { couponDiscount } from '@/server/ledger/coupon/apply';
import { allocateDiscount, percentOff } from '@/server/ledger/coupon/discount';
import { finishLines } from '@/server/ledger/invoice/build';
import type { InvoiceLine } from '@/server/ledger/invoice/types';
import type { Plan } from '@/server/ledger/plan/types';
import { periodFrom } from '@/server/ledger/subscription/calendar';
import { feesChanged } from '@/server/ledger/subscription/changes';
import { creditsAfterCoupon, periodFees } from '@/server/ledger/subscription/fees';
import { prorate, prorationLines } from '@/server/ledger/subscription/proration';
import { taxForLine, taxForLines } from '@/server/ledger/tax/calculate';
import { currency, money, ROUNDING_MODES, type PlanId, type RoundingMode } from '@/server/ledger/types';

/**
 * The scope's rounding mode beyond charges: proration lines, discounts and taxes. Only
 * exact ties of half a cent differ: half away from zero (the default) rounds them away
 * from zero, half to even to the even cent. Each case names its exact amount.
 */
const USD = currency('USD');
const usd = (cents: number) => money(cents, USD);
const at = (iso: string) => new Date(iso);
// Two days: at the middle exactly half the period is left.
const twoDays = { start: at('2025-03-01T00:00:00Z'), end: at('2025-03-03T00:00:00Z') };
const mid = at('2025-03-02T00:00:00Z');

const fee = (id: string, amount: number, description: string): InvoiceLine =>
  ({ id, kind: 'base_fee', description, featureKey: null, quantity: '1', unitPrice: null, amount, discount: 0, tax: 0, periodStart: twoDays.start, periodEnd: twoDays.end }) as InvoiceLine;

describe('proration lines in the scope’s mode', () => {
  it('20.25 for half the period is exactly 10.125: 10.13 by default, 10.12 in half to even; its credit is exactly the negative', () => {
    expect(prorate(usd(2025), twoDays, mid).amount).toBe(1013);
    expect(prorate(usd(2025), twoDays, mid, 'half_even').amount).toBe(1012);
    expect(prorate(usd(-2025), twoDays, mid, 'half_even').amount).toBe(-1012);
    // Away from a tie the modes agree: 10.135 → 10.14 in both (14 is even).
    expect([prorate(usd(2027), twoDays, mid).amount, prorate(usd(2027), twoDays, mid, 'half_even').amount]).toEqual([1014, 1014]);
  });

  it('20.25 → 30.25 at mid-period and back at the same instant: −10.13 + 15.13 and −15.13 + 10.13 (half to even −10.12 + 15.12 and back), net +5.00 then −5.00, zero in all', () => {
    for (const [mode, credit, charge] of [['half_away_from_zero', -1013, 1513], ['half_even', -1012, 1512]] as const) {
      const up = prorationLines(usd(2025), usd(3025), twoDays, mid, mode);
      const down = prorationLines(usd(3025), usd(2025), twoDays, mid, mode);
      expect([up.credit.amount, up.charge.amount, up.net.amount]).toEqual([credit, charge, 500]);
      expect([down.credit.amount, down.charge.amount, down.net.amount]).toEqual([-charge, -credit, -500]);
    }
  });

  it('symmetry in both modes: an upgrade and the downgrade back at the same instant net exactly zero, for any fees and instant', () => {
    const second = fc.integer({ min: 0, max: 2 * 86_400 });
    fc.assert(
      fc.property(fc.constantFrom(...ROUNDING_MODES), fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 10_000_000 }), second, (mode, a, b, s) => {
        const when = new Date(twoDays.start.getTime() + s * 1000);
        const up = prorationLines(usd(a), usd(b), twoDays, when, mode);
        const down = prorationLines(usd(b), usd(a), twoDays, when, mode);
        expect(up.net.amount + down.net.amount).toBe(0);
        expect(up.credit.amount + prorate(usd(a), twoDays, when, mode).amount).toBe(0);
      }),
    );
  });

  it('a change’s lines (feesChanged): "Unused time on" −10.13 / −10.12 and "Remaining time on" 15.13 / 15.12', () => {
    const old = [fee('base_fee:plan', 2025, 'Basic plan')];
    const next = [fee('base_fee:plan', 3025, 'Plus plan')];
    expect(feesChanged(old, next, twoDays, mid, USD).map((l) => [l.description, l.amount])).toEqual([
      ['Unused time on Basic plan', -1013],
      ['Remaining time on Plus plan', 1513],
    ]);
    expect(feesChanged(old, next, twoDays, mid, USD, 'half_even').map((l) => l.amount)).toEqual([-1012, 1512]);
  });

  it('a calendar first period by days: 20.25 a month from September 16 is 15 of 30 days, exactly 10.125: 10.13, or 10.12 in half to even', () => {
    const plan = { id: 'pln_x' as PlanId, name: 'Basic', currency: USD, basePrice: 2025, features: [] } as unknown as Plan;
    const entered = periodFrom(at('2025-09-16T12:00:00Z'), { unit: 'month', count: 1 }, 'calendar', null);
    expect(periodFees(plan, 1, {}, entered, null).prorations.map((l) => [l.amount, l.description])).toEqual([[1013, 'Basic plan (15 of 30 days)']]);
    expect(periodFees(plan, 1, {}, entered, null, 'half_even').prorations.map((l) => l.amount)).toEqual([1012]);
  });

  it('a credit under a 12.5 % coupon is what was paid: 1.00 paid 0.87 (discount 0.125 → 0.13), or 0.88 in half to even (0.12)', () => {
    const credit = [fee('proration:0', -100, 'Unused time on Basic plan')];
    expect(creditsAfterCoupon(credit, '12.5', USD)[0]!.amount).toBe(-87);
    expect(creditsAfterCoupon(credit, '12.5', USD, 'half_even')[0]!.amount).toBe(-88);
  });
});

describe('discounts in the scope’s mode', () => {
  it('12.5 % off 1.00 is exactly 0.125: 0.13 off by default, 0.12 in half to even; off 3.00 (0.375) both take 0.38', () => {
    expect([percentOff(usd(100), '12.5').amount, percentOff(usd(100), '12.5', 'half_even').amount]).toEqual([13, 12]);
    expect([percentOff(usd(300), '12.5').amount, percentOff(usd(300), '12.5', 'half_even').amount]).toEqual([38, 38]);
    const pct = { percentOff: '12.5', amountOff: null, currency: null };
    expect(couponDiscount(pct, [usd(100), usd(300), usd(-50)]).map((m) => m.amount)).toEqual([13, 38, 0]);
    expect(couponDiscount(pct, [usd(100), usd(300), usd(-50)], 'half_even').map((m) => m.amount)).toEqual([12, 38, 0]);
  });

  it('0.02 off lines of 1.00 and 3.00 (shares 0.005 and 0.015): 0.01 + 0.01 by default, 0.00 + 0.02 in half to even; both add up to 0.02', () => {
    expect(allocateDiscount([usd(100), usd(300)], usd(2)).map((m) => m.amount)).toEqual([1, 1]);
    expect(allocateDiscount([usd(100), usd(300)], usd(2), 'half_even').map((m) => m.amount)).toEqual([0, 2]);
    const off = { percentOff: null, amountOff: 2, currency: USD };
    expect(couponDiscount(off, [usd(100), usd(300)], 'half_even').map((m) => m.amount)).toEqual([0, 2]);
    // Ties that are not halves keep the order of the lines: 0.01 over three 1.00 lines.
    expect(allocateDiscount([usd(100), usd(100), usd(100)], usd(1), 'half_even').map((m) => m.amount)).toEqual([1, 0, 0]);
  });

  it('amount off in both modes: the parts add up exactly to the capped discount, no part exceeds its line, each is its exact share rounded down or up', () => {
    const line = fc.integer({ min: -5_000, max: 5_000 });
    fc.assert(
      fc.property(fc.constantFrom(...ROUNDING_MODES), fc.array(line, { maxLength: 12 }), fc.integer({ min: 0, max: 60_000 }), (mode, lines, discount) => {
        const parts = allocateDiscount(lines.map(usd), usd(discount), mode).map((m) => m.amount);
        const positive = lines.reduce((a, l) => a + Math.max(l, 0), 0);
        expect(parts.reduce((a, p) => a + p, 0)).toBe(Math.min(discount, positive));
        parts.forEach((p, i) => {
          const l = Math.max(lines[i]!, 0);
          expect(p).toBeLessThanOrEqual(l);
          const exact = positive === 0 ? 0 : (Math.min(discount, positive) * l) / positive;
          expect(p === Math.floor(exact) || p === Math.ceil(exact)).toBe(true);
        });
      }),
    );
  });
});

describe('taxes in the scope’s mode', () => {
  it('10 % of 1.25 is exactly 0.125: 0.13 by default, 0.12 in half to even; a credit of −1.25 gets exactly the negative', () => {
    const rate = { percentage: '10', inclusive: false };
    expect([taxForLine(usd(125), rate).tax.amount, taxForLine(usd(125), rate, 'half_even').tax.amount]).toEqual([13, 12]);
    expect([taxForLine(usd(-125), rate).tax.amount, taxForLine(usd(-125), rate, 'half_even').tax.amount]).toEqual([-13, -12]);
  });

  it('Stripe’s way, per line then summed, at 6.25 %: 2.00 → 0.125 and 6.00 → 0.375 give 0.13 + 0.38 = 0.51, or 0.12 + 0.38 = 0.50 in half to even', () => {
    const rate = { percentage: '6.25', inclusive: false };
    const lines = [{ amount: usd(200), rate }, { amount: usd(600), rate }];
    const away = taxForLines(USD, lines);
    const even = taxForLines(USD, lines, 'half_even');
    expect([away.lines.map((l) => l.tax.amount), away.tax.amount, away.total.amount]).toEqual([[13, 38], 51, 851]);
    expect([even.lines.map((l) => l.tax.amount), even.tax.amount, even.total.amount]).toEqual([[12, 38], 50, 850]);
  });

  it('inclusive: 10.11 including 20 % VAT holds exactly 1.685 of tax: 1.69 (net 8.42) by default, 1.68 (net 8.43) in half to even', () => {
    const rate = { percentage: '20', inclusive: true };
    const away = taxForLine(usd(1011), rate);
    const even = taxForLine(usd(1011), rate, 'half_even');
    expect([away.tax.amount, away.net.amount, away.total.amount]).toEqual([169, 842, 1011]);
    expect([even.tax.amount, even.net.amount, even.total.amount]).toEqual([168, 843, 1011]);
  });
});

describe('an invoice in either mode: total = lines − discounts + exclusive taxes', () => {
  // 1.00 and 3.00, 12.5 % off, 6.25 % tax on what is left.
  const lines = [fee('base_fee:plan', 100, 'Basic plan'), { ...fee('license:seats', 300, 'Seats'), kind: 'license' } as InvoiceLine];
  const rate = { id: 'txr_x', displayName: 'Sales tax', percentage: '6.25', inclusive: false };
  const figures = (mode: RoundingMode) =>
    finishLines(USD, lines, (a) => couponDiscount({ percentOff: '12.5', amountOff: null, currency: null }, a, mode), { rate, note: null }, mode);

  it('half away from zero: discounts 0.13 + 0.38, taxes on 0.87 and 2.62 (0.054375, 0.16375) 0.05 + 0.16: 4.00 − 0.51 + 0.21 = 3.70', () => {
    const f = figures('half_away_from_zero');
    expect(f.lines.map((l) => [l.discount, l.tax])).toEqual([[13, 5], [38, 16]]);
    expect([f.subtotal, f.discount, f.tax, f.total]).toEqual([400, 51, 21, 370]);
  });

  it('half to even: discounts 0.12 + 0.38, taxes on 0.88 (exactly 0.055 → 0.06) and 2.62: 4.00 − 0.50 + 0.22 = 3.72', () => {
    const f = figures('half_even');
    expect(f.lines.map((l) => [l.discount, l.tax])).toEqual([[12, 6], [38, 16]]);
    expect([f.subtotal, f.discount, f.tax, f.total]).toEqual([400, 50, 22, 372]);
  });

  it('the invariant holds in both modes for any lines, coupon and rate', () => {
    const amount = fc.integer({ min: -20_000, max: 20_000 });
    fc.assert(
      fc.property(
        fc.constantFrom(...ROUNDING_MODES),
        fc.array(amount, { minLength: 1, maxLength: 8 }),
        fc.constantFrom('12.5', '25', '33.33', '50'),
        fc.constantFrom('6.25', '10', '20', '7.25'),
        fc.boolean(),
        (mode, amounts, pct, tax, inclusive) => {
          const ls = amounts.map((a, i) => fee(`l${i}`, a, `Line ${i}`));
          const f = finishLines(USD, ls, (a) => couponDiscount({ percentOff: pct, amountOff: null, currency: null }, a, mode), { rate: { ...rate, percentage: tax, inclusive }, note: null }, mode);
          const sum = (k: 'amount' | 'discount' | 'tax') => f.lines.reduce((s, l) => s + l[k], 0);
          expect(f.total).toBe(sum('amount') - sum('discount') + (inclusive ? 0 : sum('tax')));
          expect([f.subtotal, f.discount, f.tax]).toEqual([sum('amount'), sum('discount'), sum('tax')]);
        },
      ),
    );
  });
});
