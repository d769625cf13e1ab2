import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import superjson from 'superjson';
import type { AppRouter } from './root';

/**
 * The typed client for product teams' backends:
 *   const ledger = createLedgerClient({ url: 'https://billing.example.com', apiKey });
 *   const plans = await ledger.plans.list.query();
 * Every call carries the API key; the key decides the tenant and app.
 */
export function createLedgerClient(opts: { url: string; apiKey: string; fetch?: typeof fetch }) {
  return createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({
        url: `${opts.url.replace(/\/$/, '')}/api/trpc`,
        transformer: superjson,
        headers: () => ({ authorization: `Bearer ${opts.apiKey}` }),
        fetch: opts.fetch,
      }),
    ],
  });
}

export type LedgerClient = ReturnType<typeof createLedgerClient>;
export { TRPCClientError };
