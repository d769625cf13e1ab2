export const metadata = { title: 'Portal link used or expired · Ledger' };

/** Where a used, expired or unknown portal session URL leads: nobody was signed in. */
export default function PortalSessionEnded() {
  return (
    <section className="mx-auto max-w-lg p-6" aria-labelledby="ended-title">
      <h1 id="ended-title" className="text-2xl font-semibold">This billing portal link no longer works</h1>
      <p className="mt-3">
        A portal link works once, within 5 minutes of being made. This one was already used or has expired, so nobody was signed in.
      </p>
      <p className="mt-3">Go back to the app you came from and open its billing portal again, or sign in with your email address.</p>
      <p className="mt-4">
        <a className="underline" href="/portal/sign-in">Sign in to the billing portal</a>
      </p>
    </section>
  );
}
