import type { ReactNode } from 'react';

/**
 * The frame of every hosted page: who is asking (the merchant, as Stripe's hosted pages
 * put the business first), a "Test mode" badge in a test scope, and a quiet footer.
 * `back`: a checked path of this app (return-path.ts) to go back to, as a link above it all.
 */
export function Shell({ merchant, testMode, back = null, children }: { merchant: string | null; testMode: boolean; back?: string | null; children: ReactNode }) {
  return (
    <div className="hosted-page">
      {back && (
        <nav className="back-nav" aria-label="Back">
          <a className="back-link" href={back}>
            <span aria-hidden="true">←</span> Return to billing
          </a>
        </nav>
      )}
      <header className="merchant">
        {merchant && (
          <>
            <span className="monogram" aria-hidden="true">
              {merchant.slice(0, 1).toUpperCase()}
            </span>
            <span className="merchant-name">{merchant}</span>
          </>
        )}
        {testMode && <span className="badge badge-test">Test mode</span>}
      </header>
      {children}
      <footer className="hosted-footer">
        <span>
          Powered by <strong>Ledger</strong>
        </span>
        {testMode && <span>Test mode: no real money moves.</span>}
      </footer>
    </div>
  );
}

/** Every refused link: expired, changed, or naming something gone. One message, whatever the cause. */
export function LinkInvalid() {
  return (
    <Shell merchant={null} testMode={false}>
      <section className="panel narrow center" aria-labelledby="invalid-title">
        <svg className="state-icon state-icon-muted" viewBox="0 0 24 24" width="48" height="48" aria-hidden="true" focusable="false">
          <circle cx="12" cy="12" r="11" fill="none" stroke="currentColor" strokeWidth="1.5" />
          <path d="M12 6.5v7" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
          <circle cx="12" cy="17" r="1.25" fill="currentColor" />
        </svg>
        <h1 id="invalid-title">This link has expired or is invalid</h1>
        <p className="muted">
          Links to pay an invoice or add a card work for a limited time. Ask the business that sent it to you for a new link.
        </p>
      </section>
    </Shell>
  );
}

export function StatusBadge({ status }: { status: 'open' | 'paid' | 'void' | 'uncollectible' | 'draft' }) {
  const words = { open: 'Due', paid: 'Paid', void: 'Void', uncollectible: 'Past due', draft: 'Draft' } as const;
  return <span className={`badge badge-${status}`}>{words[status]}</span>;
}
