'use client';

import Link from 'next/link';
import { useEffect } from 'react';
import { buttonPrimary, buttonSecondary } from './buttons';
import { ErrorState } from './states';

/**
 * What an error.tsx shows: the page failed (the database away, a bug), the customer can
 * retry, and support can find the failure by its digest in the server's log.
 */
export function PageError({ error, reset, what }: { error: Error & { digest?: string }; reset: () => void; what: string }) {
  useEffect(() => {
    console.error(error);
  }, [error]);
  return (
    <div className="rounded-xl border border-slate-200 bg-white">
      <ErrorState
        title={`We couldn't load ${what}`}
        reference={error.digest ?? null}
        action={
          <div className="flex flex-wrap justify-center gap-2">
            <button type="button" onClick={reset} className={buttonPrimary}>
              Try again
            </button>
            <Link href="/portal" className={buttonSecondary}>
              Go to overview
            </Link>
          </div>
        }
      >
        Nothing was changed. This is usually brief: try again in a moment. If it keeps happening, contact support with the reference below.
      </ErrorState>
    </div>
  );
}
