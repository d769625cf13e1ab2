import { describe, expect, it } from 'vitest';
import { createLedger } from '../../server/ledger/ledger';
import { createMemoryStore } from '../../server/ledger/store/memory';
import { createMemoryWebhookOutStore } from '../../server/ledger/store/memory-webhook-endpoints';
import { silentLogger } from '../../server/ledger/types';

/**
 * A pass whose claim of due messages fails (the database refused it) ends with that error,
 * to be logged and tried at the next wake-up: it does not claim again at once, which
 * spun the pass's loop at 100 % CPU when every claim failed at once.
 */
describe('the delivery worker when its store fails', () => {
  it('a failing claim fails the pass once, and the next pass tries again', async () => {
    const store = createMemoryStore();
    const webhooks = createMemoryWebhookOutStore(store.events);
    let claims = 0;
    const failing = { ...webhooks, claimDue: async () => { claims++; throw new Error('the database is unavailable'); } };
    const ledger = await createLedger({ store, logger: silentLogger, webhooksOut: { store: failing, guard: { allowHttp: true, allowPrivate: true } } });
    try {
      await expect(ledger.webhooksOut.runOnce()).rejects.toThrow('the database is unavailable');
      expect(claims).toBe(1);
      await expect(ledger.webhooksOut.runOnce()).rejects.toThrow('the database is unavailable');
      expect(claims).toBe(2);
    } finally {
      await ledger.shutdown();
    }
  });
});
