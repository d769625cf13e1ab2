import { getRuntime } from '@/server/runtime';
import { describeFeature, intervalText, planPriceText } from './describe';

/**
 * Through sign-in to the portal's subscribe step (/portal/plans?subscribe=<key>): a
 * visitor signs in or is asked to, then lands on the plan to confirm.
 */
const subscribeHref = (key: string) => `/portal/sign-in?next=${encodeURIComponent(`/portal/plans?subscribe=${key}`)}`;

// Rendered per request from the database, never at build time.
export const dynamic = 'force-dynamic';

export default async function PlansPage() {
  const rt = await getRuntime();
  const { items: plans } = await rt.ledger.plans.list(rt.portalScope, { limit: 100 });
  plans.sort((a, b) => a.basePrice - b.basePrice || a.key.localeCompare(b.key));

  return (
    <>
      <h1>Plans</h1>
      {plans.length === 0 && <p className="muted">No plans are on sale yet.</p>}
      <section className="plans">
        {plans.map((plan) => (
          <article key={plan.id} className="plan" data-testid={`plan-${plan.key}`}>
            <h2>{plan.name}</h2>
            <p className="muted">{plan.description}</p>
            <p className="price">
              {planPriceText(plan)} <small>{intervalText(plan.interval)}</small>
            </p>
            {plan.trialDays > 0 && <span className="trial">{plan.trialDays}-day free trial</span>}
            <ul className="features">
              {plan.features.map((f) => {
                const d = describeFeature(f, plan.currency);
                return (
                  <li key={f.id}>
                    <strong>{d.name}</strong>
                    {d.summary && <>: {d.summary}</>}
                    {d.tiers.length > 0 && (
                      <ul className="tiers">
                        {d.tiers.map((t) => (
                          <li key={t}>{t}</li>
                        ))}
                      </ul>
                    )}
                  </li>
                );
              })}
            </ul>
            <a className="plan-cta" href={subscribeHref(plan.key)} data-testid={`subscribe-${plan.key}`}>
              {plan.trialDays > 0 ? 'Start trial' : 'Subscribe'}
              <span className="visually-hidden"> to {plan.name}</span>
            </a>
          </article>
        ))}
      </section>
    </>
  );
}
