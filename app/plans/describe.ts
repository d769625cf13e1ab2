import { format, money, type Currency, type Feature, type Interval, type Plan, type Price } from '@/server/ledger';

/**
 * Words for the pricing table: "$19.00", "per month", "first 1,000,000 at $0.0004 per
 * call". Display only: amounts are formatted, never computed here.
 */
const count = (n: number) => n.toLocaleString('en-US');

export function unitPriceText(unitPrice: string, cur: Currency): string {
  // A unit price may have more decimals than the currency (0.0004 USD): show them all.
  const decimals = unitPrice.includes('.') ? unitPrice.split('.')[1]!.length : 0;
  return new Intl.NumberFormat('en-US', {
    style: 'currency',
    currency: cur,
    maximumFractionDigits: Math.max(decimals, 0),
    minimumFractionDigits: 0,
  }).format(Number(unitPrice));
}

export function intervalText({ unit, count: n }: Interval): string {
  return n === 1 ? `per ${unit}` : `every ${n} ${unit}s`;
}

export function planPriceText(plan: Plan): string {
  return format(money(plan.basePrice, plan.currency));
}

function tierLines(price: Extract<Price, { model: 'graduated' | 'volume' }>, cur: Currency, unit: string): string[] {
  let from = 1;
  return price.tiers.map((t) => {
    const range = t.upTo === null ? `${count(from)} and above` : `${count(from)}–${count(t.upTo)}`;
    const fee = t.flatFee ? ` + ${format(money(t.flatFee, cur))}` : '';
    if (t.upTo !== null) from = t.upTo + 1;
    return `${range}: ${unitPriceText(t.unitPrice, cur)} per ${unit}${fee}`;
  });
}

export interface FeatureDescription {
  name: string;
  summary: string;
  tiers: string[];
}

export function describeFeature(f: Feature, cur: Currency): FeatureDescription {
  if (f.kind === 'boolean') return { name: f.name, summary: f.enabled ? 'Included' : 'Not included', tiers: [] };
  const unit = f.kind === 'licensed' ? 'seat' : (f.unitName ?? 'unit');
  const parts: string[] = [];
  if (f.includedUnits > 0) parts.push(`${count(f.includedUnits)} ${unit}s included`);
  if (f.limit !== null) parts.push(`up to ${count(f.limit)} ${unit}s${f.kind === 'metered' ? ' per period' : ''}`);
  let tiers: string[] = [];
  const p = f.price;
  if (p) {
    const then = f.includedUnits > 0 ? 'then ' : '';
    switch (p.model) {
      case 'flat':
        parts.push(`${format(money(p.amount, cur))} flat`);
        break;
      case 'per_unit':
        parts.push(`${then}${unitPriceText(p.unitPrice, cur)} per ${unit}`);
        break;
      case 'package':
        parts.push(`${then}${unitPriceText(p.packagePrice, cur)} per ${count(p.size)} ${unit}s`);
        break;
      case 'graduated':
        parts.push(`${then}graduated pricing`);
        tiers = tierLines(p, cur, unit);
        break;
      case 'volume':
        parts.push(`${then}volume pricing (all units at the tier reached)`);
        tiers = tierLines(p, cur, unit);
        break;
      case 'percentage':
        parts.push(`${p.rate}% of each transaction${p.fixedFee ? ` + ${format(money(p.fixedFee, cur))}` : ''}`);
        break;
      case 'graduated_percentage':
        parts.push(`${then}graduated percentage, from ${p.tiers[0]!.rate}%`);
        break;
    }
  }
  return { name: f.name, summary: parts.join(', ') || (f.kind === 'metered' ? 'Unlimited' : ''), tiers };
}
