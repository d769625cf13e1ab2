import { describe, it, expect } from 'vitest';
import { ledgerErrorOf } from '../support/errors';
import {
  Dec,
  add,
  currency,
  exponent,
  format,
  fromMajor,
  isCurrency,
  money,
  multiply,
  subtract,
  sum,
  toDecimal,
  toMajorString,
  zero,
} from '@/server/ledger/types/money';

const USD = currency('USD');
const EUR = currency('EUR');
const JPY = currency('JPY');
const KWD = currency('KWD');


describe('currencies', () => {
  it('have the ISO 4217 minor-unit exponent: USD 2, EUR 2, JPY 0, KWD 3', () => {
    expect(exponent(USD)).toBe(2);
    expect(exponent(EUR)).toBe(2);
    expect(exponent(JPY)).toBe(0);
    expect(exponent(KWD)).toBe(3);
  });

  it('accept a lowercase code and normalise it: "usd" is USD', () => {
    expect(currency('usd')).toBe('USD');
  });

  it.each(['XXY', 'usd1', '', 'US', 'U$D'])('reject %j as an invalid currency', (code) => {
    const err = ledgerErrorOf(() => currency(code));
    expect(err.code).toBe('invalid');
    expect(err.message).toContain(`"${code}"`);
    expect(err.issues).toEqual([{ path: 'currency', message: `unknown currency "${code}"` }]);
  });

  it('isCurrency answers without throwing, and only for exact uppercase codes', () => {
    expect(isCurrency('USD')).toBe(true);
    expect(isCurrency('usd')).toBe(false);
    expect(isCurrency('XXY')).toBe(false);
  });

  it('money() with an unknown currency is invalid', () => {
    expect(ledgerErrorOf(() => money(100, 'XXY')).code).toBe('invalid');
  });
});

describe('money is an integer number of minor units', () => {
  it.each([1.5, 0.1, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1])(
    'rejects %d minor units',
    (amount) => {
      const err = ledgerErrorOf(() => money(amount, 'USD'));
      expect(err.code).toBe('invalid');
      expect(err.message).toContain('integer number of minor units');
    },
  );

  it('accepts the largest safe integer, 9,007,199,254,740,991 cents', () => {
    expect(money(Number.MAX_SAFE_INTEGER, 'USD').amount).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('never holds a negative zero', () => {
    expect(Object.is(money(-0, 'USD').amount, 0)).toBe(true);
    expect(Object.is(subtract(money(5, 'USD'), money(5, 'USD')).amount, 0)).toBe(true);
  });
});

describe('adding and subtracting is exact', () => {
  it('$0.10 + $0.20 = $0.30 exactly (10 + 20 cents, no float error)', () => {
    expect(add(money(10, 'USD'), money(20, 'USD'))).toEqual({ amount: 30, currency: 'USD' });
  });

  it('$19.99 + $0.01 = $20.00', () => {
    expect(add(money(1999, 'USD'), money(1, 'USD')).amount).toBe(2000);
  });

  it('$5.00 − $12.50 = −$7.50 (a credit may go below zero)', () => {
    expect(subtract(money(500, 'USD'), money(1250, 'USD'))).toEqual({ amount: -750, currency: 'USD' });
  });

  it('sum of $49.00, $12.34 and $0.66 is $62.00; the sum of nothing is zero', () => {
    expect(sum(USD, [money(4900, USD), money(1234, USD), money(66, USD)])).toEqual(money(6200, USD));
    expect(sum(JPY, [])).toEqual(zero(JPY));
  });

  it('overflowing the safe integer range is an error, not a silent float', () => {
    expect(ledgerErrorOf(() => add(money(Number.MAX_SAFE_INTEGER, USD), money(1, USD))).code).toBe('invalid');
  });

  it('mixing currencies is an error: USD + EUR, USD − JPY, a sum in the wrong currency', () => {
    const mixed = ledgerErrorOf(() => add(money(100, USD), money(100, EUR)));
    expect(mixed.code).toBe('invalid');
    expect(mixed.message).toBe('cannot combine USD and EUR amounts');
    expect(ledgerErrorOf(() => subtract(money(100, USD), money(100, JPY))).code).toBe('invalid');
    expect(ledgerErrorOf(() => sum(USD, [money(100, EUR)])).code).toBe('invalid');
  });
});

describe('decimal amounts become money once, rounded half away from zero', () => {
  it('0.125 USD is 13 cents ($0.13); −0.125 USD is −13 cents', () => {
    expect(fromMajor('0.125', USD)).toEqual({ amount: 13, currency: 'USD' });
    expect(fromMajor('-0.125', USD)).toEqual({ amount: -13, currency: 'USD' });
  });

  it('1,234,567 units at 0.0004 USD = 493.8268 -> 49,383 cents ($493.83)', () => {
    const m = fromMajor(new Dec('1234567').times('0.0004'), USD);
    expect(m.amount).toBe(49383);
    expect(toMajorString(m)).toBe('493.83');
  });

  it('0.0645 USD rounds down to 6 cents; 0.7265 USD rounds up to 73 cents', () => {
    expect(fromMajor('0.0645', USD).amount).toBe(6);
    expect(fromMajor('0.7265', USD).amount).toBe(73);
  });

  it('rounds only once: 0.0045 USD is 0 cents (not 0.005 -> 0.01)', () => {
    expect(fromMajor('0.0045', USD).amount).toBe(0);
  });

  it('rounds to the currency: JPY 10.5 -> ¥11, KWD 1.2345 -> 1.235 (1,235 fils)', () => {
    expect(fromMajor('10.5', JPY).amount).toBe(11);
    expect(fromMajor('1.2345', KWD).amount).toBe(1235);
  });

  it('−0.001 USD rounds to zero, not negative zero', () => {
    expect(Object.is(fromMajor('-0.001', USD).amount, 0)).toBe(true);
  });

  it('multiply: 12.5 cents (125 × 0.1) -> 13; −12.5 -> −13', () => {
    expect(multiply(money(125, USD), '0.1')).toEqual({ amount: 13, currency: 'USD' });
    expect(multiply(money(-125, USD), '0.1')).toEqual({ amount: -13, currency: 'USD' });
  });

  it('multiply: a 15% fee on $19.99 is 299.85 cents -> $3.00', () => {
    expect(multiply(money(1999, USD), '0.15').amount).toBe(300);
  });

  it('reads 1.005 USD as exactly 100.5 cents -> 101 (float 1.005 × 100 is 100.4999… -> 100)', () => {
    expect(fromMajor(1.005, USD).amount).toBe(101);
    expect(fromMajor('1.005', USD).amount).toBe(101);
  });

  it('multiply takes the factor as a string, a number or a Decimal: $10.05 × 3 = $30.15', () => {
    expect(multiply(money(1005, USD), '3').amount).toBe(3015);
    expect(multiply(money(1005, USD), 3).amount).toBe(3015);
    expect(multiply(money(1005, USD), new Dec('3')).amount).toBe(3015);
  });

  it('multiply keeps the currency: ¥1,000 × 0.0645 = ¥64.5 -> ¥65', () => {
    expect(multiply(money(1000, JPY), '0.0645')).toEqual({ amount: 65, currency: 'JPY' });
  });
});

describe('toDecimal reads a decimal exactly', () => {
  it('reads "0.0004", " 12.5 ", "-3" and the number 0.1 exactly', () => {
    expect(toDecimal('0.0004').toString()).toBe('0.0004');
    expect(toDecimal(' 12.5 ').toString()).toBe('12.5');
    expect(toDecimal('-3').toString()).toBe('-3');
    expect(toDecimal(0.1).toString()).toBe('0.1');
  });

  it('reads a small number such as 0.0000001 (which String() writes as "1e-7")', () => {
    expect(toDecimal(0.0000001).equals('0.0000001')).toBe(true);
  });

  it.each<[string, string | number]>([
    ['the string "1e5"', '1e5'],
    ['"abc"', 'abc'],
    ['an empty string', ''],
    ['".5"', '.5'],
    ['"1,000"', '1,000'],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ])('rejects %s as invalid', (_label, value) => {
    const err = ledgerErrorOf(() => toDecimal(value, 'unit price'));
    expect(err.code).toBe('invalid');
    expect(err.message).toMatch(/^unit price must be a (finite|decimal) number/);
  });

  it('multiply and fromMajor reject a factor such as "1e5" instead of guessing', () => {
    expect(ledgerErrorOf(() => multiply(money(100, USD), '1e5')).code).toBe('invalid');
    expect(ledgerErrorOf(() => fromMajor('abc', USD)).code).toBe('invalid');
  });
});

describe('showing money', () => {
  it('toMajorString gives exact major units with the currency digits', () => {
    expect(toMajorString(money(5399, USD))).toBe('53.99');
    expect(toMajorString(money(5, USD))).toBe('0.05');
    expect(toMajorString(money(-5, USD))).toBe('-0.05');
    expect(toMajorString(money(500, JPY))).toBe('500');
    expect(toMajorString(money(1250, KWD))).toBe('1.250');
  });

  it('format: 5399 cents is "$53.99", 500 JPY is "¥500", −5399 cents is "-$53.99"', () => {
    expect(format(money(5399, USD))).toBe('$53.99');
    expect(format(money(500, JPY))).toBe('¥500');
    expect(format(money(-5399, USD))).toBe('-$53.99');
  });

  it('format: 1250 fils shows KWD with three decimals, "1.250"', () => {
    expect(format(money(1250, KWD))).toContain('1.250');
  });

  it('format is exact up to the largest amount: 9,007,199,254,740,901 cents is $90,071,992,547,409.01', () => {
    expect(format(money(9007199254740901, USD))).toBe('$90,071,992,547,409.01');
    expect(format(money(Number.MAX_SAFE_INTEGER, USD))).toBe('$90,071,992,547,409.91');
  });
});
