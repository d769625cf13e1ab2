import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLedger, ManualClock, silentLogger } from '@/server/ledger';
import { behaviourOf, cardBrand, luhnValid, sandboxCard } from '@/server/ledger/payment/sandbox';
import { rejectsWith } from '../support/engine';
import { storeFactories, uniqueScope, useStore } from '../support/stores';

/** The sandbox provider: Stripe's test cards, checked by Luhn, never stored. */
const NOW = new Date('2025-01-15T10:00:00.000Z');

describe('sandbox cards', () => {
  it('checks numbers with Luhn: 4242 4242 4242 4242 passes, 4242 4242 4242 4241 does not', () => {
    expect(luhnValid('4242424242424242')).toBe(true);
    expect(luhnValid('4000002500003155')).toBe(true);
    expect(luhnValid('4242424242424241')).toBe(false);
    expect(luhnValid('42424242')).toBe(false); // too short for a card
  });

  it('names the brand from the number', () => {
    expect(['4242424242424242', '5555555555554444', '378282246310005', '6011111111111117'].map(cardBrand)).toEqual(['visa', 'mastercard', 'amex', 'discover']);
  });

  it('keeps brand, last 4, expiry and a reference naming the behaviour, never the number', () => {
    const cases = [
      ['4242424242424242', 'succeeds'],
      ['4000000000000002', 'declined'],
      ['4000000000009995', 'insufficient_funds'],
      ['4000000000000341', 'fails_on_charge'],
      ['4000002500003155', 'requires_action'],
    ] as const;
    for (const [number, behaviour] of cases) {
      const m = sandboxCard(number, 12, 2030, NOW);
      expect(m).toMatchObject({ brand: 'visa', last4: number.slice(-4), expMonth: 12, expYear: 2030 });
      expect(behaviourOf(m.providerRef)).toBe(behaviour);
      expect(JSON.stringify(m)).not.toContain(number);
      expect(JSON.stringify(m)).not.toContain(number.slice(0, 12));
    }
  });

  it('refuses a malformed number, a Luhn failure, a card that is not a test card, and an expired card', () => {
    for (const [number, month, year] of [
      ['4242abcd42424242', 12, 2030],
      ['4242424242424241', 12, 2030],
      ['4111111111111111', 12, 2030], // a valid Visa, but not one of the sandbox's test cards
      ['4242424242424242', 12, 2024],
    ] as const) {
      expect(() => sandboxCard(number, month, year, NOW)).toThrow(expect.objectContaining({ code: 'invalid' }));
    }
    expect(() => sandboxCard('4242424242424242', 1, 2025, NOW)).not.toThrow(); // valid through the end of its month
  });
});

describe.each(storeFactories())('sandbox.attachCard on $name', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });

  async function setup() {
    const ledger = await createLedger({ store: store(), clock: new ManualClock(NOW), logger: silentLogger });
    const scope = uniqueScope();
    await ledger.scopes.register(scope, 'test');
    const customer = await ledger.customers.create(scope, { email: 'ada@example.com', name: 'Ada' });
    return { ledger, scope, customer };
  }

  it('attaches a typed card (spaces allowed) as the default method; a later one becomes the default unless told not to', async () => {
    const { ledger, scope, customer } = await setup();
    const first = await ledger.payments.sandbox.attachCard(scope, customer.id, { number: '4242 4242 4242 4242', expMonth: 12, expYear: 2030 });
    const second = await ledger.payments.sandbox.attachCard(scope, customer.id, { number: '5555-5555-5555-4444', expMonth: 1, expYear: 2031, makeDefault: false });
    expect(first).toMatchObject({ provider: 'sandbox', brand: 'visa', last4: '4242', isDefault: true, detachedAt: null });
    expect(first.id).toMatch(/^pm_/);
    expect((await ledger.payments.methods(scope, customer.id)).map((m) => [m.last4, m.brand, m.isDefault])).toEqual([
      ['4242', 'visa', true],
      ['4444', 'mastercard', false],
    ]);
    expect(second.isDefault).toBe(false);
  });

  it('a malformed card is invalid and attaches nothing; an unknown customer is not_found', async () => {
    const { ledger, scope, customer } = await setup();
    const err = await rejectsWith(ledger.payments.sandbox.attachCard(scope, customer.id, { number: '4242 4242 4242 4241', expMonth: 12, expYear: 2030 }), 'invalid');
    expect(err.message).toMatch(/Luhn/);
    await rejectsWith(ledger.payments.sandbox.attachCard(scope, customer.id, { number: '4242424242424242', expMonth: 13, expYear: 2030 }), 'invalid');
    await rejectsWith(ledger.payments.sandbox.attachCard(uniqueScope(), customer.id, { number: '4242424242424242', expMonth: 12, expYear: 2030 }), 'not_found');
    expect(await ledger.payments.methods(scope, customer.id)).toEqual([]);
  });
});
