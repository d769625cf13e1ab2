import { expect } from 'vitest';
import { LedgerError } from '../../server/ledger/types/errors';

/** Runs `fn` and returns the LedgerError it throws (fails the test if it throws anything else). */
export function ledgerErrorOf(fn: () => unknown): LedgerError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LedgerError);
    return e as LedgerError;
  }
  throw new Error('expected a LedgerError, but nothing was thrown');
}
