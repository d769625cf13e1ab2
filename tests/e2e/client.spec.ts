import { expect, test } from '@playwright/test';
import { createLedgerClient, TRPCClientError } from '../../server/trpc/client';
import { E2E_DEMO_KEY } from '../../playwright.config';
import type { AppRouter } from '../../server/trpc/root';

type ClientError = TRPCClientError<AppRouter>;

/** The typed client a product team uses, against the running app. */
test('createLedgerClient reads plans and manages a customer with the demo API key', async ({ baseURL }) => {
  const ledger = createLedgerClient({ url: baseURL!, apiKey: E2E_DEMO_KEY });
  const plans = await ledger.plans.list.query({});
  expect(plans.items.map((p) => p.key)).toEqual(['free', 'pro', 'starter']);

  const customer = await ledger.customers.create.mutate({ email: 'grace@example.com', name: 'Grace', country: 'US', region: 'NY' });
  expect(customer.id).toMatch(/^cst_/);
  expect(customer.createdAt).toBeInstanceOf(Date); // superjson keeps Dates

  const free = plans.items.find((p) => p.key === 'free')!;
  const sub = await ledger.subscriptions.create.mutate({ customerId: customer.id, planId: free.id });
  expect(sub.status).toBe('active');
  const canceled = await ledger.subscriptions.cancel.mutate({ id: sub.id, at: 'now' });
  expect(canceled.status).toBe('canceled');
});

test('a wrong API key is refused with UNAUTHORIZED', async ({ baseURL }) => {
  const ledger = createLedgerClient({ url: baseURL!, apiKey: 'ldg_AAAAAAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
  const err = await ledger.plans.list.query({}).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(TRPCClientError);
  expect((err as ClientError).data?.code).toBe('UNAUTHORIZED');
});

test('engine errors reach the client with their code', async ({ baseURL }) => {
  const ledger = createLedgerClient({ url: baseURL!, apiKey: E2E_DEMO_KEY });
  const err = await ledger.plans.get.query({ id: 'pln_01h455vb4pex5vsknk084sn02q' }).catch((e: unknown) => e);
  expect((err as ClientError).data?.code).toBe('NOT_FOUND');
});
