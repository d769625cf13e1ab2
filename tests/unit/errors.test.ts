import { describe, expect, it } from 'vitest';
import { isLedgerError, LedgerError, notFound } from '@/server/ledger';

describe('engine errors', () => {
  it('carry a stable code and a readable message', () => {
    const e = notFound('plan', 'pln_x');
    expect(e.code).toBe('not_found');
    expect(e.message).toBe('plan pln_x not found');
  });

  it('are recognised even when made by another copy of the module (separate bundles)', () => {
    // What a second bundle's LedgerError looks like: same registry symbol, other class.
    const otherCopy = Object.assign(new Error('x'), { code: 'not_found', [Symbol.for('ledger.error')]: true });
    expect(isLedgerError(otherCopy)).toBe(true);
    expect(isLedgerError(new LedgerError('conflict', 'x'))).toBe(true);
    expect(isLedgerError(new Error('plain'))).toBe(false);
    expect(isLedgerError({ code: 'not_found' })).toBe(false);
  });
});
