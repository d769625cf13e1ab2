import { Dec, illegalState, type Scope, type TaxCalculator, type TaxRequest, type TaxResult } from '../../ledger';

/**
 * The `tax` plugin: a TaxCalculator that asks an external tax service (in the manner of
 * a simplified Stripe Tax or Avalara call) instead of the scope's rate table.
 *
 * The protocol, JSON over HTTP:
 *
 *   POST {url}        authorization: Bearer {apiKey} (when given)
 *   { "currency": "USD", "issuedAt": "2026-03-01T00:00:00.000Z",
 *     "tenant": "acme", "app": "web",
 *     "customer": { "id": "cst_…", "country": "US", "region": "CA", "postalCode": "94103",
 *                   "taxStatus": "taxable", "taxId": null },
 *     "lines": [{ "id": "usage:api_calls", "kind": "usage", "description": "…",
 *                 "quantity": "1500", "amount": 10000 }] }
 *
 *   200 { "inclusive": false, "note": null,
 *         "lines": [{ "id": "usage:api_calls", "tax": 863,
 *                     "rates": [{ "name": "CA State Tax", "percentage": "7.25" },
 *                               { "name": "SF County Tax", "percentage": "1.375" }] }] }
 *
 * Amounts are integer minor units after discount (a credit line is negative); each
 * line's tax is the service's, already rounded. The answer is checked: one entry per
 * line, same ids, in order, whole numbers.
 *
 * Failure mode: REFUSE. A timeout, a network error, a non-2xx answer or an answer that
 * does not fit throws an `illegal_state` error; the engine then writes nothing: a draft
 * is not created, refreshed or finalized, and the billing cycle tries it again on its
 * next run. It never falls back to the rate table: a rate table kept beside a tax
 * service is not the tax the tenant chose, and an issued invoice cannot be corrected
 * but by a credit note.
 */
export interface TaxServiceOptions {
  /** The service's calculation endpoint. */
  url: string;
  apiKey?: string;
  /** Milliseconds before the call is abandoned (default 5,000). */
  timeoutMs?: number;
  /** The fetch to use (tests, a proxy); global fetch by default. */
  fetch?: typeof fetch;
}

interface ServiceLine {
  id: string;
  tax: number;
  rates?: { name: string; percentage: string }[];
}

interface ServiceAnswer {
  inclusive?: boolean;
  note?: string | null;
  lines: ServiceLine[];
}

export function taxServiceCalculator(options: TaxServiceOptions): TaxCalculator {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const doFetch = options.fetch ?? fetch;
  return {
    async calculate(scope: Scope, request: TaxRequest): Promise<TaxResult> {
      const answer = await ask(doFetch, options, timeoutMs, scope, request);
      return resultOf(request, answer);
    },
  };
}

const unavailable = (why: string) =>
  illegalState(`the tax service could not tax this invoice (${why}); nothing was written: try again when it answers`);

async function ask(doFetch: typeof fetch, options: TaxServiceOptions, timeoutMs: number, scope: Scope, r: TaxRequest): Promise<ServiceAnswer> {
  const body = {
    currency: r.currency,
    issuedAt: r.issueAt.toISOString(),
    tenant: scope.tenantId,
    app: scope.appId,
    customer: {
      id: r.customer.id,
      country: r.customer.country,
      region: r.customer.region,
      postalCode: r.customer.address?.postalCode ?? null,
      taxStatus: r.customer.taxStatus,
      taxId: r.customer.taxId,
    },
    lines: r.lines.map((l) => ({ id: l.id, kind: l.kind, description: l.description, quantity: l.quantity, amount: l.amount })),
  };
  let res: Response;
  try {
    res = await doFetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (e) {
    const name = e instanceof Error ? e.name : '';
    throw unavailable(name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `request failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw unavailable(`it answered HTTP ${res.status}`);
  }
  try {
    return (await res.json()) as ServiceAnswer;
  } catch {
    throw unavailable('its answer is not JSON');
  }
}

/** The service's answer as the engine's TaxResult, refused unless it taxes every line exactly once. */
function resultOf(request: TaxRequest, answer: ServiceAnswer): TaxResult {
  const lines = Array.isArray(answer?.lines) ? answer.lines : null;
  if (!lines || lines.length !== request.lines.length) throw unavailable(`it taxed ${lines?.length ?? 'no'} lines of ${request.lines.length}`);
  const out = request.lines.map((l, i) => {
    const a = lines[i]!;
    if (a?.id !== l.id) throw unavailable(`its line ${i} is ${JSON.stringify(a?.id)}, expected ${JSON.stringify(l.id)}`);
    if (!Number.isSafeInteger(a.tax)) throw unavailable(`the tax of line ${l.id} is ${JSON.stringify(a.tax)}, not whole minor units`);
    const rates = Array.isArray(a.rates) ? a.rates : [];
    return { id: l.id, tax: a.tax, rates };
  });
  const inclusive = answer.inclusive === true;
  const taxed = out.filter((l) => l.tax !== 0);
  if (taxed.length === 0) return { lines: out.map((l) => ({ id: l.id, tax: 0 })), inclusive, rate: null, note: answer.note ?? 'No tax applies' };

  // The invoice prints one rate: the lines' own when they share it, else the effective
  // one (Σ tax ÷ Σ taxable); each line keeps the names the service gave it.
  const label = (rates: { name: string }[]) => rates.map((x) => x.name).join(' + ') || 'Tax';
  const pct = (rates: { percentage: string }[]) => rates.reduce((s, x) => s.plus(new Dec(x.percentage)), new Dec(0)).toFixed();
  const first = taxed[0]!;
  const uniform = taxed.every((l) => label(l.rates) === label(first.rates) && pct(l.rates) === pct(first.rates));
  const base = request.lines.reduce((s, l, i) => (out[i]!.tax !== 0 ? s + l.amount : s), 0);
  const sum = taxed.reduce((s, l) => s + l.tax, 0);
  const effective = base === 0 ? '0' : new Dec(sum).times(100).div(base).toDecimalPlaces(4).toFixed();
  return {
    lines: out.map((l) => ({ id: l.id, tax: l.tax, ...(l.tax !== 0 && l.rates.length ? { rateName: label(l.rates) } : {}) })),
    inclusive,
    rate: uniform
      ? { id: 'tax_service', displayName: label(first.rates), percentage: first.rates.length ? pct(first.rates) : effective, inclusive }
      : { id: 'tax_service', displayName: 'Tax (by line)', percentage: effective, inclusive },
    note: null,
  };
}
