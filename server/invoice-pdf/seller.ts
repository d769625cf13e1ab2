import type { Scope } from '../ledger';

/**
 * The seller printed on invoices: the tenant. Ledger stores no seller details yet (they
 * come with the portal's settings), so they are read from the environment, one seller for
 * the deployment; the name defaults to the tenant id, title-cased ("acme-corp" → "Acme Corp").
 */
export interface Seller {
  name: string;
  /** Lines of the postal address. */
  address: string[];
  email: string | null;
  taxId: string | null;
}

export const SELLER_ENV = ['LEDGER_SELLER_NAME', 'LEDGER_SELLER_ADDRESS', 'LEDGER_SELLER_EMAIL', 'LEDGER_SELLER_TAX_ID'] as const;

export function sellerOf(scope: Scope, env: Record<string, string | undefined> = process.env): Seller {
  const value = (k: (typeof SELLER_ENV)[number]) => env[k]?.trim() || null;
  return {
    name: value('LEDGER_SELLER_NAME') ?? titleCase(scope.tenantId),
    // One env value: lines separated by newlines, "\n" written literally, or ";".
    address: (value('LEDGER_SELLER_ADDRESS') ?? '')
      .split(/\r?\n|\\n|;/)
      .map((l) => l.trim())
      .filter(Boolean),
    email: value('LEDGER_SELLER_EMAIL'),
    taxId: value('LEDGER_SELLER_TAX_ID'),
  };
}

export const titleCase = (id: string) =>
  id
    .split(/[-_.\s]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(' ');
