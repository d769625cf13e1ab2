import type { Metadata } from 'next';
import { addCard } from '../../../actions';
import { loadSetup } from '../../../load';
import { SetupForm } from '../../../setup-form';
import { Shell } from '../../../shell';
import { TestCardList } from '../../../test-cards';

export const dynamic = 'force-dynamic';

type Props = { params: Promise<{ token: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { setup } = await loadSetup((await params).token);
  return { title: `Add a card · ${setup.merchantName}` };
}

/**
 * The sandbox's hosted set-up page (what Stripe Checkout in setup mode is for Stripe):
 * a test card is checked and saved as the customer's default, then the customer goes on
 * to the merchant's success URL. The number itself is never stored.
 */
export default async function SetupPage({ params }: Props) {
  const { token } = await params;
  const { setup, testMode } = await loadSetup(token);
  return (
    <Shell merchant={setup.merchantName} testMode={testMode}>
      <section className="panel narrow" aria-labelledby="setup-title">
        <h1 id="setup-title">Add a card</h1>
        <p className="muted">
          {setup.merchantName} will charge this card for your invoices{setup.customer.email ? <> ({setup.customer.email})</> : null}.
        </p>
        <aside className="sandbox-note" aria-labelledby="sandbox-note-title">
          <h2 id="sandbox-note-title">This is the sandbox</h2>
          <p>No real card is charged. Use a test card number with any future expiry date:</p>
          <TestCardList />
        </aside>
        <SetupForm action={addCard.bind(null, token)} cancelUrl={setup.cancelUrl} />
      </section>
    </Shell>
  );
}
