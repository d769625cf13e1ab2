import { describe, expect, expectTypeOf, it } from 'vitest';
import { createLedger } from '../../server/ledger/ledger';
import { HOOK_NAMES, type HookName, type LedgerHooks, type Plugin } from '../../server/ledger/plugin/hooks';
import { PluginRegistry } from '../../server/ledger/plugin/registry';
import { createMemoryStore } from '../../server/ledger/store/memory';
import { ManualClock, silentLogger } from '../../server/ledger/types';
import { proPlanInput } from '../support/builders';
import { T0, capturingLogger, recordingPlugin, testEngine } from '../support/engine';

/**
 * Lifecycle hooks: every operation fires its hooks with the scope, after it is stored;
 * a plugin that fails is logged and changes nothing for the caller or the other plugins.
 */
describe('plugins', () => {
  describe('the hooks a plugin receives', () => {
    it('onInit at start, onShutdown once at shutdown', async () => {
      const rec = recordingPlugin();
      const ledger = await createLedger({ store: createMemoryStore(), plugins: [rec.plugin], logger: silentLogger, clock: new ManualClock(T0) });
      expect(rec.calls).toEqual([{ hook: 'onInit', args: [] }]);
      await ledger.shutdown();
      await ledger.shutdown();
      expect(rec.calls.map((c) => c.hook)).toEqual(['onInit', 'onShutdown']);
    });

    it('customers: onCustomerCreated and onCustomerUpdated(old, new), with the scope', async () => {
      const rec = recordingPlugin();
      const { ledger, scope } = await testEngine(createMemoryStore(), { plugins: [rec.plugin] });
      const c = await ledger.customers.create(scope, { email: 'a@example.com', name: 'A' });
      const u = await ledger.customers.update(scope, c.id, { name: 'B' });
      expect(rec.of('onCustomerCreated')).toEqual([[scope, c]]);
      expect(rec.of('onCustomerUpdated')).toEqual([[scope, c, u]]);
    });

    it('plan create: onPlanCreated, then onFeatureCreated once per feature, in order', async () => {
      const rec = recordingPlugin();
      const { ledger, scope } = await testEngine(createMemoryStore(), { plugins: [rec.plugin] });
      rec.calls.length = 0;
      const plan = await ledger.plans.create(scope, proPlanInput());
      expect(rec.calls.map((c) => c.hook)).toEqual(['onPlanCreated', 'onFeatureCreated', 'onFeatureCreated', 'onFeatureCreated']);
      expect(rec.of('onPlanCreated')).toEqual([[scope, plan]]);
      expect(rec.of('onFeatureCreated')).toEqual(plan.features.map((f) => [scope, plan, f]));
    });

    it('plan update: onPlanUpdated(old, new), and per feature created, updated or deleted', async () => {
      const rec = recordingPlugin();
      const { ledger, scope } = await testEngine(createMemoryStore(), { plugins: [rec.plugin] });
      const v1 = await ledger.plans.create(scope, proPlanInput());
      rec.calls.length = 0;

      const [apiCalls] = proPlanInput().features!;
      const v2 = await ledger.plans.update(scope, v1.id, {
        features: [
          apiCalls!, // unchanged
          // seats: 20 allowed instead of 10
          { key: 'seats', name: 'Seats', kind: 'licensed', includedUnits: 1, limit: 20, price: { model: 'per_unit', unitPrice: '12' } },
          { key: 'audit_log', name: 'Audit log', kind: 'boolean' }, // new; sso is removed
        ],
      });
      expect(v2.version).toBe(2);
      const [, oldSeats, oldSso] = v1.features;
      const [, newSeats, newAudit] = v2.features;

      expect(rec.of('onPlanUpdated')).toEqual([[scope, v1, v2]]);
      expect(rec.of('onFeatureUpdated')).toEqual([[scope, v2, oldSeats, newSeats]]);
      expect(rec.of('onFeatureCreated')).toEqual([[scope, v2, newAudit]]);
      expect(rec.of('onFeatureDeleted')).toEqual([[scope, v2, oldSso]]);
      expect(newSeats!.id).toBe(oldSeats!.id);
    });

    it('a rename fires onPlanUpdated only', async () => {
      const rec = recordingPlugin();
      const { ledger, scope } = await testEngine(createMemoryStore(), { plugins: [rec.plugin] });
      const plan = await ledger.plans.create(scope, proPlanInput());
      rec.calls.length = 0;
      const renamed = await ledger.plans.update(scope, plan.id, { name: 'Pro+' });
      expect(rec.calls).toEqual([{ hook: 'onPlanUpdated', args: [scope, plan, renamed] }]);
    });

    it('archive: onPlanArchived, then onFeatureArchived per feature', async () => {
      const rec = recordingPlugin();
      const { ledger, scope } = await testEngine(createMemoryStore(), { plugins: [rec.plugin] });
      const plan = await ledger.plans.create(scope, proPlanInput());
      rec.calls.length = 0;
      const archived = await ledger.plans.archive(scope, plan.id);
      expect(rec.of('onPlanArchived')).toEqual([[scope, archived]]);
      expect(rec.of('onFeatureArchived')).toEqual(archived.features.map((f) => [scope, archived, f]));
      // archiving again is a no-op and fires nothing
      rec.calls.length = 0;
      await ledger.plans.archive(scope, plan.id);
      expect(rec.calls).toEqual([]);
    });

    it('subscriptions: onSubscriptionCreated, onSubscriptionCancelScheduled, onSubscriptionCanceled', async () => {
      const rec = recordingPlugin();
      const { ledger, scope, clock } = await testEngine(createMemoryStore(), { plugins: [rec.plugin] });
      const c = await ledger.customers.create(scope, { email: 'a@example.com', name: 'A' });
      const plan = await ledger.plans.create(scope, proPlanInput());
      rec.calls.length = 0;

      const sub = await ledger.subscriptions.create(scope, { customerId: c.id, planId: plan.id });
      clock.advance(1000);
      const scheduled = await ledger.subscriptions.cancel(scope, sub.id, { at: 'period_end' });
      const resumed = await ledger.subscriptions.resume(scope, sub.id);
      const ended = await ledger.subscriptions.cancel(scope, sub.id, { at: 'now' });

      expect(rec.calls.map((x) => x.hook)).toEqual([
        'onSubscriptionCreated',
        'onInvoiceGenerated', // the first period's fees, billed in advance…
        'onInvoiceFinalized', // …and final at once (no usage to wait for)
        'onSubscriptionCancelScheduled',
        'onInvoiceGenerated', // the final invoice (usage up to now: a draft for late events)…
        'onSubscriptionCanceled',
      ]);
      // as inserted: the first invoice still owed (its outbox), then made
      expect(rec.of('onSubscriptionCreated')).toEqual([[scope, { ...sub, version: 0, outbox: [expect.objectContaining({ key: 'create' })] }]]);
      expect(rec.of('onSubscriptionCancelScheduled')).toEqual([[scope, scheduled]]);
      expect(rec.of('onSubscriptionCanceled')).toEqual([[scope, ended]]);
      expect(resumed.cancelAtPeriodEnd).toBe(false);
    });

    it('a failed operation fires nothing', async () => {
      const rec = recordingPlugin();
      const { ledger, scope } = await testEngine(createMemoryStore(), { plugins: [rec.plugin] });
      rec.calls.length = 0;
      await expect(ledger.customers.create(scope, { email: 'nope', name: 'A' })).rejects.toMatchObject({ code: 'invalid' });
      await expect(ledger.plans.create(scope, proPlanInput({ currency: 'XXY' }))).rejects.toMatchObject({ code: 'invalid' });
      expect(rec.calls).toEqual([]);
    });
  });

  describe('a plugin that fails', () => {
    it('is logged with its name and the hook; the plan is created and later plugins still run', async () => {
      const logger = capturingLogger();
      const broken: Plugin = {
        name: 'broken-metrics',
        onPlanCreated() {
          throw new Error('metrics backend down');
        },
      };
      const rejecting: Plugin = {
        name: 'broken-audit',
        async onFeatureCreated() {
          throw new Error('audit store full');
        },
      };
      const rec = recordingPlugin('after-them');
      const { ledger, scope } = await testEngine(createMemoryStore(), { plugins: [broken, rejecting, rec.plugin], logger });

      const plan = await ledger.plans.create(scope, proPlanInput());
      expect(await ledger.plans.get(scope, plan.id)).toEqual(plan);
      expect(rec.of('onPlanCreated')).toEqual([[scope, plan]]);
      expect(rec.of('onFeatureCreated')).toHaveLength(3);

      const errors = logger.entries.filter((x) => x.level === 'error');
      expect(errors[0]).toEqual({
        level: 'error',
        msg: 'plugin "broken-metrics" failed in onPlanCreated',
        data: { plugin: 'broken-metrics', hook: 'onPlanCreated', error: 'metrics backend down' },
      });
      expect(errors.slice(1).map((x) => x.data)).toEqual(
        Array.from({ length: 3 }, () => ({ plugin: 'broken-audit', hook: 'onFeatureCreated', error: 'audit store full' })),
      );
    });

    it('a plugin throwing a non-Error is logged too', async () => {
      const logger = capturingLogger();
      const registry = new PluginRegistry(logger, [
        {
          name: 'odd',
          onInit() {
            throw 'just a string';
          },
        },
      ]);
      await registry.emit('onInit');
      expect(logger.entries).toEqual([
        { level: 'error', msg: 'plugin "odd" failed in onInit', data: { plugin: 'odd', hook: 'onInit', error: 'just a string' } },
      ]);
    });

    it('two plugins with one name are refused', () => {
      expect(() => new PluginRegistry(silentLogger, [{ name: 'x' }, { name: 'x' }])).toThrow(/already registered/);
    });
  });

  describe('HOOK_NAMES', () => {
    /** Every key of LedgerHooks, once: the type checker refuses a missing or an extra key. */
    const everyHook: Record<keyof LedgerHooks, true> = {
      onInit: true,
      onShutdown: true,
      onCustomerCreated: true,
      onCustomerUpdated: true,
      onPlanCreated: true,
      onPlanUpdated: true,
      onPlanArchived: true,
      onFeatureCreated: true,
      onFeatureUpdated: true,
      onFeatureDeleted: true,
      onFeatureArchived: true,
      onSubscriptionCreated: true,
      onSubscriptionChanged: true,
      onSubscriptionCanceled: true,
      onSubscriptionCancelScheduled: true,
      onSubscriptionExpired: true,
      onSubscriptionTrialEnded: true,
      onSubscriptionRenewed: true,
      onUsageIngested: true,
      onUsageFlushed: true,
      onEntitlementChecked: true,
      onQuotaExceeded: true,
      onSoftLimitReached: true,
      onInvoiceGenerated: true,
      onInvoiceFinalized: true,
      onInvoicePaid: true,
      onInvoiceFailed: true,
      onInvoiceVoided: true,
      onInvoicePastDue: true,
      onPaymentProcessed: true,
      onProviderSync: true,
      onWebhookReceived: true,
    };

    it('lists each hook once', () => {
      expect(new Set(HOOK_NAMES).size).toBe(HOOK_NAMES.length);
    });

    it('covers every key of LedgerHooks, at least 30', () => {
      expect([...HOOK_NAMES].sort()).toEqual(Object.keys(everyHook).sort());
      expect(HOOK_NAMES.length).toBeGreaterThanOrEqual(30);
      expectTypeOf<Exclude<keyof LedgerHooks, (typeof HOOK_NAMES)[number]>>().toEqualTypeOf<never>();
      expectTypeOf<(typeof HOOK_NAMES)[number]>().toEqualTypeOf<HookName>();
    });

    it('types every payload: no hook takes `unknown` (tsc checks these lines)', () => {
      type Payloads = { [H in HookName]: Parameters<LedgerHooks[H]> };
      type Untyped = { [H in HookName]: unknown extends Payloads[H][number] ? H : never }[HookName];
      expectTypeOf<Untyped>().toEqualTypeOf<never>();
      // A plugin author reads fields without a cast.
      const plugin: Plugin = {
        name: 'typed',
        onUsageIngested: (_s, events) => void events.map((e) => e.featureKey + e.quantity),
        onEntitlementChecked: (_s, check) => void check.result.allowed,
        onQuotaExceeded: (_s, check) => void check.period?.end.getTime(),
        onInvoiceFinalized: (_s, invoice) => void invoice.total,
        onInvoiceGenerated: (_s, invoice) => void invoice.lines.length,
        onProviderSync: (_s, _p, result) => void ('added' in result ? result.added.length : result.reconciled.length),
        onWebhookReceived: (_s, _p, received) => void received.event.type,
      };
      expect(Object.keys(plugin)).toHaveLength(8);
    });

    it('names the design\'s hooks', () => {
      for (const h of ['onInit', 'onPlanCreated', 'onSubscriptionRenewed', 'onInvoicePaid', 'onWebhookReceived'] as const) {
        expect(HOOK_NAMES).toContain(h);
      }
    });
  });
});
