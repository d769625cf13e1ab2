'use client';

import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import { useRouter } from 'next/navigation';
import { useState, type ReactNode } from 'react';
import superjson from 'superjson';
import type { AppRouter } from '@/server/trpc/root';

/**
 * tRPC through TanStack Query for the portal's client components:
 *   const trpc = useTRPC();
 *   const preview = useQuery(trpc.accountPlans.previewChange.queryOptions({ planKey }));
 * Calls go to /api/trpc with the browser's session cookie: the server takes the scope and
 * the customer from that session, never from the input (server/trpc/context.ts). A write
 * (POST) is done only from the app's own origin: the browser's Origin header says so
 * (server/http/trpc-handler.ts). After a write: invalidate the queries it affects and
 * `router.refresh()`, so the server components re-render with the new state.
 */
export const { TRPCProvider, useTRPC } = createTRPCContext<AppRouter>();

/** The tRPC code of a failed call (`FORBIDDEN`, `PRECONDITION_FAILED`, …); null when no answer came. */
export function trpcCodeOf(e: unknown): string | null {
  return e instanceof TRPCClientError ? ((e.data as { code?: string } | undefined)?.code ?? null) : null;
}

/**
 * A failed call as the sentence the page shows: the server's own message for a refusal
 * (server/trpc/errors.ts writes those for people: "plan "x" is not for sale", "a member
 * may see billing but not change it: …"); a bug or no answer at all gets a sentence of ours.
 */
export function errorMessageOf(e: unknown): string {
  const code = trpcCodeOf(e);
  if (code === null) return 'We could not reach the server. Check your connection, reload the page and try again.';
  if (code === 'INTERNAL_SERVER_ERROR') return 'Something went wrong on our side. Nothing was changed; try again.';
  return (e as Error).message;
}

/** A refusal (4xx: the answer will not change) is final; no answer, a 5xx or a 429 is worth one more try. */
function retryOnce(failures: number, e: unknown): boolean {
  const status = e instanceof TRPCClientError ? (e.data as { httpStatus?: number } | undefined)?.httpStatus : undefined;
  return failures < 1 && (status === undefined || status >= 500 || status === 429);
}

function makeQueryClient(signedOut: () => void) {
  // The session ended (expired, signed out in another tab): re-rendering the page sends
  // it through sign-in, back to this page after (its server component redirects).
  const onError = (e: unknown) => {
    if (trpcCodeOf(e) === 'UNAUTHORIZED') signedOut();
  };
  return new QueryClient({
    queryCache: new QueryCache({ onError }),
    mutationCache: new MutationCache({ onError }),
    defaultOptions: {
      queries: {
        // Billing figures change only by the user's own writes here, which refresh the
        // page: no refetch on every focus, and a failed read is retried once, not thrice.
        staleTime: 30_000,
        refetchOnWindowFocus: false,
        retry: retryOnce,
      },
      mutations: { retry: false },
    },
  });
}

/** One QueryClient and one tRPC client per browser tab, made on first render. */
export function TRPCReactProvider({ children }: { children: ReactNode }) {
  const router = useRouter();
  const [queryClient] = useState(() => makeQueryClient(() => router.refresh()));
  const [trpcClient] = useState(() =>
    createTRPCClient<AppRouter>({
      links: [httpBatchLink({ url: '/api/trpc', transformer: superjson })],
    }),
  );
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
}
