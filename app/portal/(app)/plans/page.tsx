import { PlansBoard } from './plans-board';
import { plansApi } from './plans-api';

export const metadata = { title: 'Plans' };

/**
 * /portal/plans: the pricing table with the current plan marked, and every change of the
 * subscription (subscribe, upgrade or downgrade through a preview, seats, coupon, cancel,
 * resume). `?subscribe=<planKey>` (the public /plans' buttons, through sign-in) preselects
 * that plan and focuses its button.
 */
export default async function PlansPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const q = await searchParams;
  const wanted = typeof q.subscribe === 'string' ? q.subscribe : null;
  const api = await plansApi(wanted ? `/portal/plans?subscribe=${encodeURIComponent(wanted)}` : '/portal/plans');
  const data = await api.list();
  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight text-slate-900">Plans</h1>
        <p className="mt-1 text-sm text-slate-600">
          {data.subscription ? 'Change your plan or seats, apply a coupon, or cancel. Every change shows its price before you confirm.' : 'Pick a plan to get started. Plans with a trial charge nothing until the trial ends.'}
        </p>
      </div>
      <PlansBoard data={data} preselect={wanted && data.plans.some((p) => p.key === wanted) ? wanted : null} />
    </div>
  );
}
