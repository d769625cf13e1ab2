import { formatMoney } from '@/app/_lib/format';

/**
 * An amount of integer minor units in its own currency ("$1,234.50", "¥500"), with
 * tabular figures so columns of amounts line up.
 */
export function Money({ amount, currency, className = '' }: { amount: number; currency: string; className?: string }) {
  return <span className={`tabular-nums ${className}`}>{formatMoney(amount, currency)}</span>;
}
