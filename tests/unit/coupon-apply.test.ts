import { describe, expect, it } from 'vitest';
import { couponAppliesToPeriod, couponDiscount } from '@/server/ledger/coupon/apply';
import type { CouponDiscountTerms, CouponDuration } from '@/server/ledger/coupon/types';
import { currency, money, sum } from '@/server/ledger/types/money';
import { ledgerErrorOf } from '../support/errors';

const USD = currency('USD');
const EUR = currency('EUR');
const JPY = currency('JPY');
const usd = (cents: number) => money(cents, USD);
const cents = (ms: { amount: number }[]) => ms.map((m) => m.amount);

const pct = (percentOff: string): CouponDiscountTerms => ({ percentOff, amountOff: null, currency: null });
const off = (amountOff: number, cur = USD): CouponDiscountTerms => ({ percentOff: null, amountOff, currency: cur });

describe('couponAppliesToPeriod: periods counted from 0, the first after the redemption', () => {
  const once: CouponDuration = { duration: 'once', durationPeriods: null };
  const repeating3: CouponDuration = { duration: 'repeating', durationPeriods: 3 };
  const forever: CouponDuration = { duration: 'forever', durationPeriods: null };

  it('once: period 0 only', () => {
    expect([0, 1, 2].map((i) => couponAppliesToPeriod(once, i))).toEqual([true, false, false]);
  });

  it('repeating 3: periods 0, 1 and 2, not 3', () => {
    expect([0, 1, 2, 3, 4].map((i) => couponAppliesToPeriod(repeating3, i))).toEqual([true, true, true, false, false]);
  });

  it('repeating 1 is the same as once', () => {
    const r1: CouponDuration = { duration: 'repeating', durationPeriods: 1 };
    expect([0, 1].map((i) => couponAppliesToPeriod(r1, i))).toEqual([true, false]);
  });

  it('forever: every period, the 1000th too', () => {
    expect([0, 1, 12, 999].every((i) => couponAppliesToPeriod(forever, i))).toBe(true);
  });

  it('rejects a negative or fractional period index as invalid', () => {
    expect(ledgerErrorOf(() => couponAppliesToPeriod(forever, -1)).code).toBe('invalid');
    expect(ledgerErrorOf(() => couponAppliesToPeriod(once, 0.5)).code).toBe('invalid');
  });
});

describe('couponDiscount: each line\'s discount, never more than the lines', () => {
  it('25 % off 49.99 USD is 1249.75 cents -> 12.50 off', () => {
    expect(couponDiscount(pct('25'), [usd(4999)])).toEqual([usd(1250)]);
  });

  it('percent off rounds per line: 12.5 % of 0.99 and 0.99 is 0.12 each (12.375 cents), 0.24 in all', () => {
    expect(cents(couponDiscount(pct('12.5'), [usd(99), usd(99)]))).toEqual([12, 12]);
  });

  it('percent off takes nothing off zero or negative (credit) lines', () => {
    expect(cents(couponDiscount(pct('50'), [usd(2000), usd(0), usd(-500)]))).toEqual([1000, 0, 0]);
  });

  it('100 % off takes each positive line off entirely', () => {
    expect(cents(couponDiscount(pct('100'), [usd(4999), usd(1)]))).toEqual([4999, 1]);
  });

  it('percent off follows the lines\' currency: 10 % off ¥1,235 is ¥123.5 -> ¥124', () => {
    expect(couponDiscount(pct('10'), [money(1235, JPY)])).toEqual([money(124, JPY)]);
  });

  it('10.00 USD off lines of 30.00 and 10.00 is 7.50 and 2.50, in proportion', () => {
    expect(couponDiscount(off(1000), [usd(3000), usd(1000)])).toEqual([usd(750), usd(250)]);
  });

  it('100.00 USD off a 40.00 invoice takes 40.00 off, never below zero', () => {
    const lines = [usd(2500), usd(1500)];
    const discounts = couponDiscount(off(10_000), lines);
    expect(cents(discounts)).toEqual([2500, 1500]);
    expect(sum(USD, discounts)).toEqual(usd(4000));
  });

  it('an amount off skips credit lines and is capped at the positive lines: 50.00 off 30.00 and −10.00 is 30.00 and 0', () => {
    expect(cents(couponDiscount(off(5000), [usd(3000), usd(-1000)]))).toEqual([3000, 0]);
  });

  it('an amount off sums exactly to the discount: 0.10 off three lines of 1.00 is 0.04 + 0.03 + 0.03', () => {
    const d = couponDiscount(off(10), [usd(100), usd(100), usd(100)]);
    expect(cents(d)).toEqual([4, 3, 3]);
  });

  it('no lines, no discount', () => {
    expect(couponDiscount(off(1000), [])).toEqual([]);
    expect(couponDiscount(pct('25'), [])).toEqual([]);
  });

  it('an amount coupon in USD cannot discount EUR lines: invalid', () => {
    const err = ledgerErrorOf(() => couponDiscount(off(1000), [money(3000, EUR)]));
    expect(err.code).toBe('invalid');
    expect(err.message).toBe('a coupon of USD cannot discount amounts in EUR');
  });

  it('lines in two currencies are invalid, for a percent coupon too', () => {
    expect(ledgerErrorOf(() => couponDiscount(pct('10'), [usd(100), money(100, EUR)])).code).toBe('invalid');
  });
});
