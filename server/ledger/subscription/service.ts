import type { EngineContext } from '../context';
import type { Plan } from '../plan/types';
import {
  illegalState,
  invalid,
  newId,
  notFound,
  pageSchema,
  parseId,
  parseInput,
  toPage,
  type Page,
  type PageInput,
  type Scope,
} from '../types';
import { nthPeriod } from './period';
import {
  cancelSchema,
  createSubscriptionSchema,
  type CancelInput,
  type CreateSubscriptionInput,
  type Subscription,
} from './types';

const DAY_MS = 86_400_000;

/**
 * The subscription lifecycle: create (with a trial and seats), read, cancel, resume.
 * Renewals, plan changes and invoices come with the billing cycle.
 */
export class SubscriptionService {
  constructor(private readonly ctx: EngineContext) {}

  async create(scope: Scope, input: CreateSubscriptionInput): Promise<Subscription> {
    const data = parseInput(createSubscriptionSchema, input, 'subscription');
    const customerId = parseId('customer', data.customerId);
    const planId = parseId('plan', data.planId);
    const [customer, plan] = await Promise.all([
      this.ctx.store.customers.get(scope, customerId),
      this.ctx.store.plans.get(scope, planId),
    ]);
    if (!customer) throw notFound('customer', customerId);
    if (!plan) throw notFound('plan', planId);
    if (plan.status !== 'active') throw illegalState(`plan "${plan.key}" is archived and takes no new subscriptions`);
    if (!plan.isLatest) {
      throw illegalState(`plan ${plan.id} is an old version of "${plan.key}"; subscribe to the latest version`);
    }
    checkSeats(plan, data.quantity);

    const now = this.ctx.clock.now();
    const trialDays = data.trialDays ?? plan.trialDays;
    const trialEnd = trialDays > 0 ? new Date(now.getTime() + trialDays * DAY_MS) : null;
    // During a trial the period is the trial; paid periods are counted from its end.
    const anchor = trialEnd ?? now;
    const first = trialEnd ? { start: now, end: trialEnd } : nthPeriod(anchor, plan.interval, 0);
    const sub: Subscription = {
      id: newId('subscription'),
      customerId,
      planId,
      status: trialEnd ? 'trialing' : 'active',
      quantity: data.quantity,
      trialStart: trialEnd ? now : null,
      trialEnd,
      billingAnchor: anchor,
      currentPeriodStart: first.start,
      currentPeriodEnd: first.end,
      cancelAtPeriodEnd: false,
      canceledAt: null,
      endedAt: null,
      metadata: data.metadata,
      createdAt: now,
      updatedAt: now,
    };
    await this.ctx.store.subscriptions.insert(scope, sub);
    this.ctx.changes.subscriptionWritten(scope, sub);
    await this.ctx.plugins.emit('onSubscriptionCreated', scope, sub);
    return sub;
  }

  async get(scope: Scope, id: string): Promise<Subscription> {
    const sid = parseId('subscription', id);
    const sub = await this.ctx.store.subscriptions.get(scope, sid);
    if (!sub) throw notFound('subscription', sid);
    return sub;
  }

  async listByCustomer(scope: Scope, customerId: string, page: PageInput = {}): Promise<Page<Subscription>> {
    const cid = parseId('customer', customerId);
    const p = parseInput(pageSchema, page, 'page');
    if (!(await this.ctx.store.customers.get(scope, cid))) throw notFound('customer', cid);
    return toPage(await this.ctx.store.subscriptions.listByCustomer(scope, cid, p), p.limit);
  }

  /**
   * `now`: ends the subscription at once. `period_end`: it stays active until the end of
   * the current period, when the billing cycle ends it; `resume` undoes that until then.
   */
  async cancel(scope: Scope, id: string, input: CancelInput = {}): Promise<Subscription> {
    const { at } = parseInput(cancelSchema, input, 'cancellation');
    const sub = await this.get(scope, id);
    if (sub.status === 'canceled') throw illegalState(`subscription ${sub.id} is already canceled`);
    const now = this.ctx.clock.now();
    if (at === 'now') {
      const ended: Subscription = { ...sub, status: 'canceled', canceledAt: now, endedAt: now, cancelAtPeriodEnd: false, updatedAt: now };
      await this.save(scope, ended);
      await this.ctx.plugins.emit('onSubscriptionCanceled', scope, ended);
      return ended;
    }
    if (sub.cancelAtPeriodEnd) return sub;
    const scheduled: Subscription = { ...sub, cancelAtPeriodEnd: true, canceledAt: now, updatedAt: now };
    await this.save(scope, scheduled);
    await this.ctx.plugins.emit('onSubscriptionCancelScheduled', scope, scheduled);
    return scheduled;
  }

  /** Withdraws a cancellation scheduled for the period end. */
  async resume(scope: Scope, id: string): Promise<Subscription> {
    const sub = await this.get(scope, id);
    if (sub.status === 'canceled') throw illegalState(`subscription ${sub.id} has ended and cannot be resumed`);
    if (!sub.cancelAtPeriodEnd) return sub;
    const resumed: Subscription = { ...sub, cancelAtPeriodEnd: false, canceledAt: null, updatedAt: this.ctx.clock.now() };
    await this.save(scope, resumed);
    return resumed;
  }

  private async save(scope: Scope, sub: Subscription): Promise<void> {
    if (!(await this.ctx.store.subscriptions.update(scope, sub))) throw notFound('subscription', sub.id);
    this.ctx.changes.subscriptionWritten(scope, sub);
  }
}

function checkSeats(plan: Plan, quantity: number): void {
  for (const f of plan.features) {
    if (f.kind === 'licensed' && f.limit !== null && quantity > f.limit) {
      throw invalid(`plan "${plan.key}" allows at most ${f.limit} seats of "${f.key}", asked for ${quantity}`, [
        { path: 'quantity', message: `at most ${f.limit}` },
      ]);
    }
  }
}
