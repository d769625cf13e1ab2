'use server';

import { TRPCError } from '@trpc/server';
import { revalidatePath } from 'next/cache';
import { headers } from 'next/headers';
import { redirect } from 'next/navigation';
import { ZodError } from 'zod';
import { isLedgerError } from '@/server/ledger';
import { billingApi } from './billing-api';

/**
 * The billing page's writes, as server actions: each calls one `accountBilling` procedure
 * through the session's server-side caller (billing-api.ts), so the role check (owner,
 * billing) and the customer come from the session. A refusal comes back for the form to
 * show, with the fields at fault.
 */
/** `values`: what was sent, shown again in the form (React resets a form after its action). */
export type DetailsState = { ok: boolean; message: string | null; fields: Record<string, string>; values: Record<string, string> | null; at: number };
export type ActionResult = { ok: true } | { ok: false; error: string };

const INTERNAL = 'Something went wrong on our side. Nothing was changed; try again.';

/** The form's field names: the procedure's paths ("address.line1"). */
const FIELDS = ['name', 'email', 'country', 'region', 'taxId', 'address.line1', 'address.line2', 'address.city', 'address.postalCode', 'address.state'] as const;

const WORDS: Record<string, string> = {
  name: 'Name',
  email: 'Billing email',
  country: 'Country',
  region: 'State or region',
  taxId: 'Tax ID',
  'address.line1': 'Address line 1',
  'address.line2': 'Address line 2',
  'address.city': 'City',
  'address.postalCode': 'Postal code',
  'address.state': 'State',
};

function issuesOf(e: TRPCError): { path: string; message: string }[] {
  const cause = e.cause;
  if (isLedgerError(cause)) return cause.issues.map((i) => ({ path: String(i.path), message: i.message }));
  // zod's error (or a Standard Schema one, by shape): issues with a path of keys.
  const issues = cause instanceof ZodError ? cause.issues : (cause as { issues?: unknown } | undefined)?.issues;
  if (!Array.isArray(issues)) return [];
  return issues.map((i: { path?: readonly (PropertyKey | { key: PropertyKey })[]; message?: string }) => ({
    path: (i.path ?? []).map((k) => String(typeof k === 'object' ? k.key : k)).join('.'),
    message: i.message ?? 'invalid',
  }));
}

/** A friendlier word for zod's messages at the field ("Too big: expected string to have <=50 characters"). */
function say(path: string, message: string): string {
  const long = /<=\s*(\d+)/.exec(message);
  if (long) return `${WORDS[path] ?? 'This'} can be at most ${long[1]} characters.`;
  if (path === 'country') return 'Use a two-letter country code, such as US, DE or FR.';
  if (path === 'email') return 'Enter an email address, such as billing@example.com.';
  if (/required|empty|at least 1|>=1/i.test(message)) return `${WORDS[path] ?? 'This'} is required.`;
  return message.charAt(0).toUpperCase() + message.slice(1) + (message.endsWith('.') ? '' : '.');
}

export async function updateDetails(_prev: DetailsState, form: FormData): Promise<DetailsState> {
  const v = (k: string) => String(form.get(k) ?? '').trim();
  const orNull = (k: string) => v(k) || null;
  const line1 = v('address.line1');
  const city = v('address.city');
  const anyAddress = FIELDS.filter((f) => f.startsWith('address.')).some((f) => v(f));
  const at = Date.now();
  const values = Object.fromEntries(FIELDS.map((f) => [f, v(f)]));
  // An address needs its first line and city; all empty clears it.
  const fields: Record<string, string> = {};
  if (anyAddress && !line1) fields['address.line1'] = 'Address line 1 is required with an address.';
  if (anyAddress && !city) fields['address.city'] = 'City is required with an address.';
  if (!v('name')) fields.name = 'Name is required.';
  if (!v('email')) fields.email = 'Billing email is required.';
  if (Object.keys(fields).length) return { ok: false, message: 'Check the fields marked below. Nothing was saved.', fields, values, at };
  try {
    await (
      await billingApi()
    ).updateDetails({
      name: v('name'),
      email: v('email'),
      country: orNull('country')?.toUpperCase() ?? null,
      region: orNull('region'),
      taxId: orNull('taxId'),
      address: anyAddress ? { line1, line2: orNull('address.line2'), city, postalCode: orNull('address.postalCode'), state: orNull('address.state') } : null,
    });
    revalidatePath('/portal', 'layout');
    return { ok: true, message: 'Billing details saved. Your next invoices will use them.', fields: {}, values, at };
  } catch (e) {
    if (!(e instanceof TRPCError)) throw e; // Next's redirect (signed out) must pass through.
    if (e.code === 'INTERNAL_SERVER_ERROR') return { ok: false, message: INTERNAL, fields: {}, values, at };
    const found: Record<string, string> = {};
    for (const i of issuesOf(e)) if (!found[i.path]) found[i.path] = say(i.path, i.message);
    return { ok: false, message: Object.keys(found).length ? 'Check the fields marked below. Nothing was saved.' : e.message, fields: found, values, at };
  }
}

async function run(fn: (api: Awaited<ReturnType<typeof billingApi>>) => Promise<unknown>): Promise<ActionResult> {
  try {
    await fn(await billingApi());
    revalidatePath('/portal', 'layout');
    return { ok: true };
  } catch (e) {
    if (!(e instanceof TRPCError)) throw e;
    return { ok: false, error: e.code === 'INTERNAL_SERVER_ERROR' ? INTERNAL : e.message };
  }
}

export async function setDefaultMethod(id: string): Promise<ActionResult> {
  return run((api) => api.setDefault({ id }));
}

export async function removeMethod(id: string): Promise<ActionResult> {
  return run((api) => api.remove({ id }));
}

/** To the provider's hosted add-a-card page; back to /portal/billing?card=added (LEDGER_PUBLIC_URL, else this request's origin). */
export async function addCard(): Promise<ActionResult> {
  const h = await headers();
  const host = h.get('x-forwarded-host') ?? h.get('host');
  const proto = h.get('x-forwarded-proto') ?? 'http';
  let url: string;
  try {
    ({ url } = await (await billingApi()).addCard(host ? { origin: `${proto}://${host}` } : undefined));
  } catch (e) {
    if (!(e instanceof TRPCError)) throw e;
    return { ok: false, error: e.code === 'INTERNAL_SERVER_ERROR' ? INTERNAL : e.message };
  }
  redirect(url);
}
