import fs from 'node:fs';
import path from 'node:path';
import { writePrivateFile } from './admin';
import { splitApiKey } from './auth/api-key-format';
import { createApiKey, listApiKeys, revokeApiKey, verifyApiKey } from './auth/api-keys';
import { addMembership, roleOf, userByEmail } from './portal/store';
import { isLedgerError, type CreatePlanInput, type Scope } from './ledger';
import type { Runtime } from './runtime';

/**
 * Demo data for the embedded default: three plans, a sales tax rate for California, a
 * welcome coupon, one customer on a Starter trial, and one API key for the demo's test
 * scope. Seeding is idempotent (a scope that has plans is left alone).
 *
 * The demo key is stable: the same key at every start, so a newcomer's exported
 * LEDGER_API_KEY keeps working across restarts. It is LEDGER_DEMO_API_KEY when that is
 * set; otherwise it is made once and its plaintext kept beside the database in a file only
 * its owner can read (`.data/pglite.demo-key`, mode 0600). Whenever a key is made, every
 * other active demo key of the scope is revoked, so old ones do not pile up. On a memory
 * database there is nothing to keep: each start makes a new key for the new database.
 */
export const DEMO_PLANS: CreatePlanInput[] = [
  {
    key: 'free',
    name: 'Free',
    description: 'For side projects and trying things out.',
    currency: 'USD',
    interval: { unit: 'month', count: 1 },
    basePrice: 0,
    features: [
      { key: 'api_calls', name: 'API calls', kind: 'metered', aggregation: 'sum', limit: 10_000, unitName: 'call' },
      { key: 'seats', name: 'Seats', kind: 'licensed', includedUnits: 1, limit: 1 },
    ],
  },
  {
    key: 'starter',
    name: 'Starter',
    description: 'For small teams shipping to production.',
    currency: 'USD',
    interval: { unit: 'month', count: 1 },
    basePrice: 1900,
    trialDays: 14,
    features: [
      {
        key: 'api_calls',
        name: 'API calls',
        kind: 'metered',
        aggregation: 'sum',
        includedUnits: 100_000,
        unitName: 'call',
        price: {
          model: 'graduated',
          tiers: [
            { upTo: 1_000_000, unitPrice: '0.0004' },
            { upTo: null, unitPrice: '0.0002' },
          ],
        },
      },
      { key: 'seats', name: 'Seats', kind: 'licensed', includedUnits: 3, price: { model: 'per_unit', unitPrice: '8' } },
      { key: 'sso', name: 'Single sign-on', kind: 'boolean', enabled: false },
    ],
  },
  {
    key: 'pro',
    name: 'Pro',
    description: 'For companies that bill at scale.',
    currency: 'USD',
    interval: { unit: 'month', count: 1 },
    basePrice: 9900,
    trialDays: 14,
    features: [
      {
        key: 'api_calls',
        name: 'API calls',
        kind: 'metered',
        aggregation: 'sum',
        includedUnits: 1_000_000,
        unitName: 'call',
        price: {
          model: 'volume',
          tiers: [
            { upTo: 10_000_000, unitPrice: '0.0002' },
            { upTo: null, unitPrice: '0.0001' },
          ],
        },
      },
      {
        key: 'active_users',
        name: 'Active users',
        kind: 'metered',
        aggregation: 'unique_count',
        uniqueProperty: 'user_id',
        unitName: 'user',
        price: { model: 'package', size: 100, packagePrice: '5' },
      },
      { key: 'seats', name: 'Seats', kind: 'licensed', includedUnits: 10, price: { model: 'per_unit', unitPrice: '6' } },
      { key: 'sso', name: 'Single sign-on', kind: 'boolean', enabled: true },
    ],
  },
];

/** The demo key's name in `npm run apikey -- list`. */
export const DEMO_KEY_NAME = 'demo';
/** The demo customer's owner in the portal: the demo sign-in signs in as this user. */
export const DEMO_USER_EMAIL = 'owner@demo.example.com';
/** The demo customer's external id: its Ledger id is printed at every start. */
export const DEMO_CUSTOMER_EXTERNAL_ID = 'demo-customer';

export interface DemoStart {
  apiKey: string;
  /** The demo customer (on a Starter trial); null if it was deleted since the seed. */
  customerId: string | null;
  /** True when the demo data was created by this start. */
  seeded: boolean;
}

/** Where the demo key is kept for this database: beside PGlite's data, or under .data/ for PostgreSQL. */
export function demoKeyFileFor(env: Runtime['env']): string | null {
  if (env.DATABASE_URL) return path.resolve('.data', 'postgres.demo-key');
  if (env.PGLITE_DATA_DIR.startsWith('memory://')) return null;
  return `${path.resolve(env.PGLITE_DATA_DIR)}.demo-key`;
}

export async function seedDemo(rt: Runtime, keyFile: string | null = demoKeyFileFor(rt.env)): Promise<DemoStart> {
  const { ledger, portalScope: s } = rt;
  // The key first: it registers the demo scope as a test scope before anything lives in it.
  const apiKey = await demoApiKey(rt, s, keyFile);
  const existing = await ledger.plans.list(s, { limit: 1, includeArchived: true });
  let seeded = false;
  if (existing.items.length === 0) {
    const plans = [];
    for (const p of DEMO_PLANS) plans.push(await ledger.plans.create(s, p));
    await ledger.taxRates.create(s, { displayName: 'CA sales tax', country: 'US', region: 'CA', percentage: '7.25' });
    await ledger.coupons.create(s, { code: 'WELCOME20', name: 'Welcome: 20 % off for 3 months', percentOff: '20', duration: 'repeating', durationPeriods: 3 });
    const customer = await ledger.customers.create(s, {
      email: 'demo@example.com',
      name: 'Demo Customer',
      externalId: DEMO_CUSTOMER_EXTERNAL_ID,
      country: 'US',
      region: 'CA',
    });
    await ledger.subscriptions.create(s, { customerId: customer.id, planId: plans[1]!.id, quantity: 3 });
    seeded = true;
  }
  const customerId = await ledger.customers
    .getByExternalId(s, DEMO_CUSTOMER_EXTERNAL_ID)
    .then((c) => c.id as string)
    .catch((e: unknown) => {
      if (isLedgerError(e) && e.code === 'not_found') return null;
      throw e;
    });
  // The portal's demo sign-in (server/auth/next-auth.ts): an owner of the demo customer.
  if (customerId) {
    const user = await userByEmail(rt.database.db, DEMO_USER_EMAIL, 'Demo Owner');
    if (!(await roleOf(rt.database.db, s, customerId, user.id))) {
      await addMembership(rt.database.db, s, customerId, user.id, 'owner', ledger.clock.now());
    }
  }
  return { apiKey, customerId, seeded };
}

/**
 * The demo scope's one active demo key: LEDGER_DEMO_API_KEY, else the kept key while it
 * still opens the demo scope, else a new test key (kept for the next start). Any other
 * active demo key of the scope is revoked.
 */
async function demoApiKey(rt: Runtime, s: Scope, keyFile: string | null): Promise<string> {
  const db = rt.database.db;
  const preset = rt.env.LEDGER_DEMO_API_KEY;
  const kept = preset ?? readKeptKey(keyFile);
  let key: string | null = null;
  let id: string | null = null;
  if (kept) {
    const found = await verifyApiKey(db, kept);
    if (found && found.scope.tenantId === s.tenantId && found.scope.appId === s.appId) {
      [key, id] = [kept, found.id];
    } else if (found && preset) {
      throw new Error(`LEDGER_DEMO_API_KEY opens the scope ${found.scope.tenantId}/${found.scope.appId}, not the demo scope ${s.tenantId}/${s.appId}`);
    }
  }
  if (!key) {
    const created = await createApiKey(db, s, DEMO_KEY_NAME, { mode: 'test', presetKey: preset });
    [key, id] = [created.key, created.id];
    if (keyFile && !preset) {
      fs.mkdirSync(path.dirname(keyFile), { recursive: true });
      writePrivateFile(keyFile, `${key}\n`);
    }
  }
  for (const k of await listApiKeys(db, s)) {
    if (k.name === DEMO_KEY_NAME && !k.revokedAt && k.id !== id) await revokeApiKey(db, s, k.id);
  }
  return key;
}

/** The kept demo key, if the file holds a test key. */
function readKeptKey(file: string | null): string | null {
  if (!file) return null;
  try {
    const key = fs.readFileSync(file, 'utf8').trim();
    return splitApiKey(key)?.mode === 'test' ? key : null;
  } catch {
    return null;
  }
}
