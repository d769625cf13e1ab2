import { describe, expect, it } from 'vitest';
import type { InvoiceLine } from '../../server/ledger/invoice/types';
import { newId } from '../../server/ledger/types';
import { allocate, byUseOrder, isLive, lineCharge } from '../../server/ledger/wallet/allocate';
import type { WalletGrant } from '../../server/ledger/wallet/types';

/**
 * The pure rules of a wallet: which grants are live, the order invoices use them in, and
 * how an invoice's amount due is paid from them. 1 credit = 1 cent.
 */
const NOW = new Date('2025-03-01T00:00:00Z');
const wallet = newId('wallet');

function grant(description: string, amount: number, more: Partial<WalletGrant> = {}): WalletGrant {
  return {
    id: newId('walletGrant'),
    walletId: wallet,
    key: description,
    source: 'promotional',
    amount,
    remaining: amount,
    priority: 50,
    expiresAt: null,
    featureKeys: null,
    invoiceId: null,
    description,
    expiredAt: null,
    createdAt: new Date('2025-01-01T00:00:00Z'),
    ...more,
  };
}

function line(id: string, amount: number, featureKey: string | null = null, more: Partial<InvoiceLine> = {}): InvoiceLine {
  return { id, kind: featureKey ? 'usage' : 'base_fee', description: id, featureKey, quantity: '1', unitPrice: null, amount, discount: 0, tax: 0, periodStart: NOW, periodEnd: NOW, ...more };
}

const used = (uses: ReturnType<typeof allocate>) => uses.map((u) => [u.grant.description, u.amount]);

describe('wallet allocation', () => {
  it('order: priority 10 before 50; at 50 the one expiring first, then the one without expiry, the older first', () => {
    const a = grant('no expiry, newer', 100, { createdAt: new Date('2025-02-01T00:00:00Z') });
    const b = grant('no expiry, older', 100);
    const c = grant('expires Mar 31', 100, { expiresAt: new Date('2025-03-31T00:00:00Z') });
    const d = grant('expires Mar 10', 100, { expiresAt: new Date('2025-03-10T00:00:00Z') });
    const e = grant('priority 10', 100, { priority: 10 });
    expect([a, b, c, d, e].sort(byUseOrder).map((g) => g.description)).toEqual(['priority 10', 'expires Mar 10', 'expires Mar 31', 'no expiry, older', 'no expiry, newer']);
  });

  it('live: credits left and its expiry after now (an expiry exactly now is past)', () => {
    expect(isLive(grant('x', 100, { expiresAt: NOW }), NOW)).toBe(false);
    expect(isLive(grant('x', 100, { expiresAt: new Date(NOW.getTime() + 1) }), NOW)).toBe(true);
    expect(isLive(grant('x', 100, { remaining: 0 }), NOW)).toBe(false);
  });

  it('a line asks for its amount less discount, plus exclusive tax: 100.00 − 10.00 + 7.20 tax = 97.20; inclusive tax is in the amount', () => {
    expect(lineCharge(line('fee', 10000, null, { discount: 1000, tax: 720 }), false)).toBe(9720);
    expect(lineCharge(line('fee', 10000, null, { discount: 1000, tax: 720 }), true)).toBe(9000);
  });

  it('30.00 due from 20.00 + 50.00: 20.00 then 10.00; nothing more than is due', () => {
    const uses = allocate([grant('first', 2000, { priority: 1 }), grant('second', 5000)], NOW, [line('fee', 3000)], false, 3000);
    expect(used(uses)).toEqual([['first', 2000], ['second', 1000]]);
  });

  it('a grant for api_calls pays only the api_calls line (12.00 of 40.00 asked); the rest stays due', () => {
    const uses = allocate([grant('api only', 5000, { featureKeys: ['api_calls'] })], NOW, [line('fee', 2800), line('api', 1200, 'api_calls')], false, 4000);
    expect(used(uses)).toEqual([['api only', 1200]]);
  });

  it('a grant for any line pays first the lines a later limited grant cannot: 60.00 + 30.00 of seats, 80.00 due, all paid', () => {
    const any = grant('any line', 6000, { priority: 1 });
    const seats = grant('seats only', 4000, { featureKeys: ['seats'] });
    const uses = allocate([any, seats], NOW, [line('seats', 3000, 'seats'), line('fee', 5000)], false, 8000);
    expect(used(uses)).toEqual([['any line', 6000], ['seats only', 2000]]); // 50.00 fee, then 10.00 of seats
  });

  it('the amount due caps it (the credit balance took part): 80.00 of lines, 15.00 due, 15.00 used', () => {
    expect(used(allocate([grant('g', 10000)], NOW, [line('fee', 8000)], false, 1500))).toEqual([['g', 1500]]);
  });

  it('grants expired by now are not used', () => {
    expect(used(allocate([grant('gone', 10000, { expiresAt: NOW })], NOW, [line('fee', 8000)], false, 8000))).toEqual([]);
  });
});
