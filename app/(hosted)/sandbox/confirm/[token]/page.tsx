import type { Metadata } from 'next';
import { authenticate } from '../../../actions';
import { SubmitButton } from '../../../card-fields';
import { amountText, localPath } from '../../../format';
import { loadConfirmation } from '../../../load';
import { Shell } from '../../../shell';

export const dynamic = 'force-dynamic';

type Props = { params: Promise<{ token: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { c } = await loadConfirmation((await params).token);
  return { title: `Confirm your payment · ${c.merchantName}` };
}

/**
 * The sandbox's 3-D Secure page, as Stripe's test authentication page: Complete or Fail.
 * Complete confirms the sandbox's charge and delivers its signed webhook through the
 * inbox, as it would arrive at POST /api/webhooks/sandbox; either way the customer goes
 * back to the invoice's pay page, which shows what came of it.
 */
export default async function ConfirmPage({ params }: Props) {
  const { token } = await params;
  const { c, testMode } = await loadConfirmation(token);
  const { payment, invoice } = c;
  const amount = amountText(payment.amount, payment.currency);
  return (
    <Shell merchant={c.merchantName} testMode={testMode}>
      <section className="panel narrow" aria-labelledby="confirm-title">
        <p className="eyebrow">3-D Secure · sandbox</p>
        <h1 id="confirm-title">Confirm your payment</h1>
        {payment.status === 'requires_action' ? (
          <>
            <p>
              {c.merchantName} asks you to confirm a payment of <strong>{amount}</strong> for invoice {invoice.number}.
            </p>
            <p className="muted">
              This is the sandbox&apos;s test page, like Stripe&apos;s: your bank would ask you to confirm here. Choose how the authentication ends.
            </p>
            <form action={authenticate.bind(null, token)} className="actions stacked">
              <SubmitButton name="outcome" value="complete" pendingText="Confirming…">
                Complete authentication
              </SubmitButton>
              <SubmitButton name="outcome" value="fail" pendingText="Confirming…" className="button secondary">
                Fail authentication
              </SubmitButton>
            </form>
          </>
        ) : (
          <>
            <p role="status">
              {payment.status === 'succeeded'
                ? `This payment of ${amount} is confirmed.`
                : payment.status === 'failed'
                  ? `This payment of ${amount} was not confirmed: ${payment.failureMessage ?? 'it failed.'}`
                  : 'This payment no longer needs confirming.'}
            </p>
            <div className="actions">
              <a className="button primary" href={localPath(c.payUrl)}>
                Back to the invoice
              </a>
            </div>
          </>
        )}
      </section>
    </Shell>
  );
}
