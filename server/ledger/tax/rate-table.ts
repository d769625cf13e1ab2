import type { TaxCalculator, TaxResult } from '../extensions/types';
import { money } from '../types';
import { taxForLine } from './calculate';
import type { TaxRateService } from './service';

/**
 * The built-in tax calculator: the scope's rate table. One rate for the whole invoice
 * (TaxRateService.rateFor: exempt, reverse charge, the customer's region, its country),
 * each line taxed on its own and rounded once, in the rounding mode the request carries
 * (the scope's: calculate.ts).
 */
export function rateTableTaxCalculator(taxRates: TaxRateService): TaxCalculator {
  return {
    async calculate(scope, { customer, currency, lines, rounding }): Promise<TaxResult> {
      const d = await taxRates.rateFor(scope, customer);
      if (d.kind !== 'rate') return { lines: lines.map((l) => ({ id: l.id, tax: 0 })), inclusive: false, rate: null, note: d.reason };
      const r = d.rate;
      const rate = { id: r.id, displayName: r.displayName, percentage: r.percentage, inclusive: r.inclusive };
      return {
        lines: lines.map((l) => ({ id: l.id, tax: taxForLine(money(l.amount, currency), rate, rounding).tax.amount })),
        inclusive: r.inclusive,
        rate,
        note: null,
      };
    },
  };
}
