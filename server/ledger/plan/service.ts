import { z } from 'zod';
import type { EngineContext } from '../context';
import type { PricingStrategies, UsageAggregators } from '../extensions/types';
import { unknownStrategy } from './pricing';
import { checkCurrencyPrices } from './currency-prices';
import {
  findById,
  illegalState,
  invalid,
  newId,
  notFound,
  pageSchema,
  parseInput,
  toPage,
  type FeatureId,
  type Page,
  type Scope,
} from '../types';
import {
  createPlanSchema,
  featureInputSchema,
  updatePlanSchema,
  type CreatePlanInput,
  type Feature,
  type Plan,
  type UpdatePlanInput,
} from './types';

export const listPlansSchema = pageSchema.extend({ includeArchived: z.boolean().default(false) });
export type ListPlansInput = z.input<typeof listPlansSchema>;

/** Fields whose change does not alter what anyone pays: edited in place. */
const COSMETIC = ['name', 'description', 'metadata'] as const;

/** JSON with sorted keys, to compare prices structurally. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}
const withoutIds = (fs: Feature[]) => fs.map(({ id: _id, ...f }) => f);

/** The extensions a plan's features may name: pricing strategies and usage aggregators. */
export interface PlanExtensions {
  strategies?: PricingStrategies;
  aggregators?: UsageAggregators;
}

export class PlanService {
  constructor(
    private readonly ctx: EngineContext,
    private readonly extensions: PlanExtensions = {},
  ) {}

  async create(scope: Scope, input: CreatePlanInput): Promise<Plan> {
    const data = parseInput(createPlanSchema, input, 'plan');
    this.checkExtensions(data.features);
    checkCurrencyPrices(data, (fs) => this.checkExtensions(fs));
    const now = this.ctx.now(scope);
    const plan: Plan = {
      ...data,
      id: newId('plan'),
      version: 1,
      isLatest: true,
      status: 'active',
      features: data.features.map((f) => ({ ...f, id: newId('feature') }) as Feature),
      createdAt: now,
      updatedAt: now,
    };
    await this.ctx.events.atomic(scope, async (record) => {
      await this.ctx.store.plans.insert(scope, plan);
      record({ type: 'plan.created', object: plan });
    });
    await this.ctx.plugins.emit('onPlanCreated', scope, plan);
    for (const f of plan.features) await this.ctx.plugins.emit('onFeatureCreated', scope, plan, f);
    return plan;
  }

  /** A plan version by id (subscriptions point at versions). */
  get(scope: Scope, id: string): Promise<Plan> {
    return findById('plan', id, (pid) => this.ctx.store.plans.get(scope, pid));
  }

  /** The latest version of a plan line. */
  async getByKey(scope: Scope, key: string): Promise<Plan> {
    const plan = await this.ctx.store.plans.getLatestByKey(scope, key);
    if (!plan) throw notFound('plan', key);
    return plan;
  }

  /** The latest version of each plan line, by key. */
  async list(scope: Scope, input: ListPlansInput = {}): Promise<Page<Plan>> {
    const { includeArchived, ...page } = parseInput(listPlansSchema, input, 'page');
    const rows = await this.ctx.store.plans.listLatest(scope, page, { includeArchived });
    return toPage(rows, page.limit, (p) => p.key);
  }

  /**
   * Changes a plan. Name, description and metadata are edited in place. Any other change
   * (prices, features, interval, currency, trial) creates a new version with a new id;
   * existing subscriptions keep the version they subscribed to, so nobody's price changes
   * silently; new subscriptions get the new version. Only the latest version of an active
   * plan can be changed.
   */
  async update(scope: Scope, id: string, patch: UpdatePlanInput): Promise<Plan> {
    const data = parseInput(updatePlanSchema, patch, 'plan update');
    if (data.features) this.checkExtensions(data.features);
    const old = await this.get(scope, id);
    if (!old.isLatest) {
      throw illegalState(`plan ${old.id} is version ${old.version} of "${old.key}"; change the latest version`);
    }
    if (old.status === 'archived') throw illegalState(`plan "${old.key}" is archived`);
    const now = this.ctx.now(scope);

    const priced = Object.keys(data).filter((k) => !(COSMETIC as readonly string[]).includes(k));
    const featureIds = new Map(old.features.map((f) => [f.key, f.id]));
    const features = data.features
      ? data.features.map((f) => ({ ...f, id: featureIds.get(f.key) ?? newId('feature') }) as Feature)
      : old.features;
    const candidate: Plan = { ...old, ...data, features, updatedAt: now };
    checkCurrencyPrices(candidate, (fs) => this.checkExtensions(fs));
    const pricesChanged = priced.some((k) =>
      k === 'features'
        ? canonical(withoutIds(features)) !== canonical(withoutIds(old.features))
        : canonical(candidate[k as keyof Plan]) !== canonical(old[k as keyof Plan]),
    );

    const updated: Plan = pricesChanged
      ? { ...candidate, id: newId('plan'), version: old.version + 1, createdAt: now }
      : { ...old, ...pick(candidate), updatedAt: now };
    await this.ctx.events.atomic(scope, async (record) => {
      if (pricesChanged) await this.ctx.store.plans.insertVersion(scope, old, updated);
      else if (!(await this.ctx.store.plans.updateInPlace(scope, updated))) throw notFound('plan', old.id);
      // A new version is a new object: `previous` still says what changed from the old one.
      record({ type: 'plan.updated', object: updated, before: old });
    });
    await this.ctx.plugins.emit('onPlanUpdated', scope, old, updated);
    await this.emitFeatureChanges(scope, old, updated);
    return updated;
  }

  /** Withdraws a plan line from sale; existing subscriptions continue on it. Idempotent. */
  async archive(scope: Scope, id: string): Promise<Plan> {
    const plan = await this.get(scope, id);
    if (plan.status === 'archived') return plan;
    const now = this.ctx.now(scope);
    const archived: Plan = { ...plan, status: 'archived', updatedAt: now };
    await this.ctx.events.atomic(scope, async (record) => {
      await this.ctx.store.plans.archive(scope, plan.key, now);
      record({ type: 'plan.archived', object: archived, before: plan });
    });
    await this.ctx.plugins.emit('onPlanArchived', scope, archived);
    for (const f of archived.features) await this.ctx.plugins.emit('onFeatureArchived', scope, archived, f);
    return archived;
  }

  /**
   * Every pricing strategy and usage aggregator the features name must be registered
   * with this engine (and a strategy's params accepted by it), or the plan is refused:
   * an invoice must never meet a price nobody can compute.
   */
  private checkExtensions(features: readonly z.output<typeof featureInputSchema>[]): void {
    const strategies = this.extensions.strategies ?? {};
    const aggregators = this.extensions.aggregators ?? {};
    features.forEach((f, i) => {
      if (f.kind === 'boolean') return;
      const price = f.price;
      if (price?.model === 'custom') {
        // Seats are priced in advance and prorated by the subscription's changes; custom
        // strategies price usage in arrears, where the invoice has the engine's strategies.
        if (f.kind === 'licensed') {
          throw invalid(`feature "${f.key}": a custom price applies to metered features; price seats with a built-in model`, [
            { path: `features.${i}.price.model`, message: 'custom prices are for metered features' },
          ]);
        }
        const strategy = Object.hasOwn(strategies, price.strategy) ? strategies[price.strategy] : undefined;
        if (!strategy) {
          const e = unknownStrategy(price.strategy, strategies);
          throw invalid(`feature "${f.key}": ${e.message}`, [{ path: `features.${i}.price.strategy`, message: e.issues[0]!.message }]);
        }
        const refusal = strategy.validate?.(price.params ?? {});
        if (refusal) throw invalid(`feature "${f.key}": ${refusal}`, [{ path: `features.${i}.price.params`, message: refusal }]);
      }
      if (f.kind === 'metered' && f.aggregator !== undefined && !Object.hasOwn(aggregators, f.aggregator)) {
        const known = Object.keys(aggregators);
        throw invalid(
          `feature "${f.key}": unknown usage aggregator "${f.aggregator}": ${known.length ? `the engine has ${known.map((k) => `"${k}"`).join(', ')}` : 'the engine was given none (createLedger({ aggregators }))'}`,
          [{ path: `features.${i}.aggregator`, message: `no usage aggregator "${f.aggregator}"` }],
        );
      }
    });
  }

  private async emitFeatureChanges(scope: Scope, old: Plan, updated: Plan): Promise<void> {
    const before = new Map<FeatureId, Feature>(old.features.map((f) => [f.id, f]));
    for (const f of updated.features) {
      const prev = before.get(f.id);
      if (!prev) await this.ctx.plugins.emit('onFeatureCreated', scope, updated, f);
      else if (canonical(prev) !== canonical(f)) await this.ctx.plugins.emit('onFeatureUpdated', scope, updated, prev, f);
      before.delete(f.id);
    }
    for (const f of before.values()) await this.ctx.plugins.emit('onFeatureDeleted', scope, updated, f);
  }
}

function pick(p: Plan): Pick<Plan, (typeof COSMETIC)[number]> {
  return { name: p.name, description: p.description, metadata: p.metadata };
}
