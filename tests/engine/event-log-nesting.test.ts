import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, silentLogger, type LedgerEvent } from '@/server/ledger';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/**
 * A change made inside another (a wallet's movement inside an invoice's finalization)
 * writes its events in the outer change's transaction, and they are announced to
 * listeners (the outbound webhooks' wake-up) only once the outer change has committed,
 * from outside its transaction: never while it may still roll back, and never on its
 * connection (a delivery pass started there ran its queries inside that transaction).
 */
describe.each(storeFactories())('nested changes of the event log on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  it('announced after the outer commit, with the outer one’s; nothing announced when the outer change fails', async () => {
    const ledger = await createLedger({ store: store(), logger: silentLogger });
    const scope = uniqueScope();
    const announced: string[] = [];
    ledger.events.onCommitted((_s, events: readonly LedgerEvent[]) => announced.push(...events.map((e) => e.type)));

    await ledger.events.atomic(scope, async (record) => {
      record({ type: 'customer.created', object: { id: 'cst_outer' }, customerId: null });
      await ledger.events.atomic(scope, async (inner) => inner({ type: 'customer.updated', object: { id: 'cst_inner' }, customerId: null }));
      expect(announced).toEqual([]); // the outer change has not committed yet
    });
    expect(announced).toEqual(['customer.created', 'customer.updated']);

    announced.length = 0;
    await expect(
      ledger.events.atomic(scope, async () => {
        await ledger.events.atomic(scope, async (inner) => inner({ type: 'customer.updated', object: { id: 'cst_lost' }, customerId: null }));
        throw new Error('the outer change fails');
      }),
    ).rejects.toThrow('the outer change fails');
    expect(announced).toEqual([]);
    await ledger.shutdown();
  });
});
