import { openDatabase } from '../db/client';
import { createLedger, createPostgresStore, ManualClock, MAX_PERIODS_PER_ADVANCE, MAX_TOTAL_PERIODS_PER_ADVANCE, scope, silentLogger } from '../server/ledger';
import { report } from './report';

/**
 * The largest test clock advance the bound allows, timed: one customer on a daily plan
 * with a metered feature, advanced MAX_PERIODS_PER_ADVANCE days, so that every period end
 * is a step of its own and so is its draft's finalization an hour later (2 × 50 runs of
 * the cycle, 50 invoices); the same for as many customers as the total bound
 * (MAX_TOTAL_PERIODS_PER_ADVANCE period ends in all) allows; and a year of a monthly
 * plan, for scale. On PostgreSQL
 * (`url`) and on the embedded PGlite.
 */
export async function benchTestClocks(url: string, smoke: boolean): Promise<void> {
  for (const where of ['postgres', 'pglite'] as const) {
    const database = where === 'postgres' ? await openDatabase({ url }) : await openDatabase({ dataDir: 'memory://' });
    const start = new Date('2025-01-01T00:00:00Z');
    const ledger = await createLedger({ store: createPostgresStore(database.db), clock: new ManualClock(start), logger: silentLogger });
    try {
      const shapes = [
        { name: 'daily_metered', unit: 'day' as const, periods: smoke ? 10 : MAX_PERIODS_PER_ADVANCE, customers: 1 },
        {
          name: 'daily_metered_total_bound',
          unit: 'day' as const,
          periods: smoke ? 10 : MAX_PERIODS_PER_ADVANCE,
          customers: smoke ? 2 : MAX_TOTAL_PERIODS_PER_ADVANCE / MAX_PERIODS_PER_ADVANCE,
        },
        { name: 'monthly_metered_year', unit: 'month' as const, periods: 12, customers: 1 },
      ];
      for (const shape of shapes) {
        const s = scope(`bench-clk-${Date.now()}`, shape.name.replace(/_/g, '-'));
        await ledger.scopes.register(s, 'test');
        const plan = await ledger.plans.create(s, {
          key: 'p',
          name: 'P',
          currency: 'USD',
          interval: { unit: shape.unit },
          basePrice: 100,
          features: [{ key: 'calls', name: 'Calls', kind: 'metered', aggregation: 'sum', price: { model: 'per_unit', unitPrice: '0.01' } }],
        });
        const clock = await ledger.testClocks.create(s, { at: start });
        for (let k = 0; k < shape.customers; k++) {
          const c = await ledger.customers.create(s, { email: `bench${k}@example.com`, name: `Bench ${k}`, testClockId: clock.id });
          await ledger.subscriptions.create(s, { customerId: c.id, planId: plan.id });
          await ledger.meter.meterDurable(s, [{ idempotencyKey: `one-${k}`, customerId: c.id, featureKey: 'calls', quantity: 1, timestamp: start.toISOString() }]);
        }
        const to = shape.unit === 'day' ? new Date(start.getTime() + shape.periods * 86_400_000) : new Date('2026-01-01T00:00:00Z');
        const t0 = performance.now();
        const { report: r } = await ledger.billing.advanceClock(s, { id: clock.id, to });
        const ms = performance.now() - t0;
        report({ name: `test_clock.advance_${shape.name}_${where}_ms`, value: ms, unit: 'ms', note: `${r.periods} periods, ${r.invoicesCreated} invoices, ${r.invoicesFinalized} finalized` });
        await ledger.testClocks.delete(s, clock.id);
      }
    } finally {
      await ledger.shutdown();
      await database.close();
    }
  }
}
