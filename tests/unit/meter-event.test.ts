import { describe, expect, it } from 'vitest';
import { DEFAULT_METER_CONFIG, EVENT_LIMITS, newId, parseMeterEvents } from '@/server/ledger';
import { checkEvent } from '@/server/ledger/meter/event';

const now = new Date('2026-11-25T14:00:00Z');
const customerId = newId('customer');
const event = (extra: Record<string, unknown> = {}) => ({
  idempotencyKey: 'req-1',
  customerId,
  featureKey: 'api_calls',
  quantity: 1,
  timestamp: '2026-11-25T13:59:00Z',
  ...extra,
});

/** The issues of one event as "path: message", or [] when it passed. */
function issuesOf(e: unknown): string[] {
  const r = parseMeterEvents([e]);
  return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
}

const props = (n: number, value: (i: number) => unknown = () => 'v') =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, value(i)]));

describe('usage event caps: 50 properties, keys of 100, string values of 500, 8 KiB of properties', () => {
  it('states the caps', () => {
    expect(EVENT_LIMITS).toEqual({ idempotencyKey: 200, featureKey: 63, properties: 50, propertyKey: 100, propertyValue: 500, propertiesBytes: 8192 });
  });

  it('accepts 50 properties of every value type', () => {
    const p = props(50, (i) => [`s${i}`, i, i % 2 === 0, null][i % 4]);
    expect(issuesOf(event({ properties: p }))).toEqual([]);
  });

  it('refuses 51 properties, and a 10,000-property event with one issue', () => {
    expect(issuesOf(event({ properties: props(51) }))).toEqual(['properties: at most 50 keys, got 51']);
    expect(issuesOf(event({ properties: props(10_000, () => 'x'.repeat(500)) }))).toEqual(['properties: at most 50 keys, got 10000']);
  });

  it('refuses a key over 100 characters and a string value over 500, quoting at most a prefix', () => {
    const key = 'k'.repeat(1_000_000);
    expect(issuesOf(event({ properties: { [key]: 1 } }))).toEqual([
      `properties: key "${'k'.repeat(24)}"… (1000000 characters) is longer than 100 characters`,
    ]);
    expect(issuesOf(event({ properties: { endpoint: 'x'.repeat(501) } }))).toEqual(['properties.endpoint: must be at most 500 characters']);
    expect(issuesOf(event({ properties: { endpoint: { nested: true } } }))).toEqual([
      'properties.endpoint: must be a string, a number, a boolean or null',
    ]);
  });

  it('refuses properties over 8 KiB as JSON: 16 values of 500 characters are 8,135 bytes, 17 are 8,644', () => {
    expect(issuesOf(event({ properties: props(16, () => 'x'.repeat(500)) }))).toEqual([]);
    expect(issuesOf(event({ properties: props(17, () => 'x'.repeat(500)) }))).toEqual(['properties: at most 8192 bytes as JSON, got 8644']);
  });

  it('counts UTF-8 bytes, not characters: 40 values of 100 "é" are 8,351 bytes, of 100 "e" 4,351', () => {
    expect(issuesOf(event({ properties: props(40, () => 'é'.repeat(100)) }))[0]).toMatch(/at most 8192 bytes/);
    expect(issuesOf(event({ properties: props(40, () => 'e'.repeat(100)) }))).toEqual([]);
  });

  it('refuses NUL and unpaired surrogates in keys, values, the idempotency key and the feature key', () => {
    const unstorable = 'must not contain NUL characters or unpaired surrogates';
    expect(issuesOf(event({ properties: { ['a\u0000']: 1 } }))).toEqual([`properties: key "a\\u0000" ${unstorable}`]);
    expect(issuesOf(event({ properties: { user: 'a\uD800' } }))).toEqual([`properties.user: ${unstorable}`]);
    expect(issuesOf(event({ idempotencyKey: 'k\u0000' }))).toEqual([`idempotencyKey: ${unstorable}`]);
    expect(issuesOf(event({ featureKey: 'api\uDC00' }))).toEqual([`featureKey: ${unstorable}`]);
  });
});

describe('usage event ids and timestamp are checked by the schema', () => {
  it('a malformed customer id is an issue at customerId, quoted short, even 1 MB long', () => {
    expect(issuesOf(event({ customerId: 'acme-42' }))).toEqual(['customerId: expected a customer id (cst_…), got "acme-42"']);
    const [issue] = issuesOf(event({ customerId: 'c'.repeat(1_000_000) }));
    expect(issue).toBe(`customerId: expected a customer id (cst_…), got "${'c'.repeat(32)}"… (1000000 characters)`);
    expect(issuesOf(event({ customerId: newId('plan') }))[0]).toMatch(/^customerId: expected a customer id/);
  });

  it('an event id, when given, must be an evt_ id', () => {
    expect(issuesOf(event({ id: newId('event') }))).toEqual([]);
    expect(issuesOf(event({ id: 'evt_nope' }))).toEqual(['id: expected a event id (evt_…), got "evt_nope"']);
  });

  it('the timestamp is strict RFC 3339: February 30, null, true, a number, a trailing NUL and a missing one are refused', () => {
    const expected = 'expected an RFC 3339 date-time such as 2026-11-25T14:00:00Z';
    expect(issuesOf(event({ timestamp: '2026-02-30T00:00:00Z' }))).toEqual([`timestamp: ${expected}, got "2026-02-30T00:00:00Z"`]);
    expect(issuesOf(event({ timestamp: null }))).toEqual([`timestamp: ${expected}, got null`]);
    expect(issuesOf(event({ timestamp: true }))).toEqual([`timestamp: ${expected}, got a boolean`]);
    expect(issuesOf(event({ timestamp: 0 }))).toEqual([`timestamp: ${expected}, got a number`]);
    expect(issuesOf(event({ timestamp: '2026-11-25T13:59:00Z\u0000' }))).toEqual([`timestamp: ${expected}, got "2026-11-25T13:59:00Z\\u0000"`]);
    expect(issuesOf(event({ timestamp: undefined }))).toEqual(['timestamp: required: an RFC 3339 date-time such as 2026-11-25T14:00:00Z']);
  });
});

describe('checkEvent, for callers of meter() and meterDurable() with unparsed input', () => {
  it('rejects a malformed id with a reason and answers with the idempotency key', () => {
    const c = checkEvent(event({ customerId: 'acme-42' }), now, DEFAULT_METER_CONFIG);
    expect(c).toEqual({ ok: false, idempotencyKey: 'req-1', reason: 'customerId: expected a customer id (cst_…), got "acme-42"' });
  });

  it('never echoes an idempotency key that is itself invalid (1 MB, or with NUL)', () => {
    for (const idempotencyKey of ['k'.repeat(1_000_000), 'k\u0000']) {
      const c = checkEvent(event({ idempotencyKey }), now, DEFAULT_METER_CONFIG);
      expect(c.ok).toBe(false);
      if (!c.ok) {
        expect(c.idempotencyKey).toBeNull();
        expect(c.reason.length).toBeLessThan(200);
      }
    }
  });

  it('lists at most five issues in a reason, and how many more', () => {
    const c = checkEvent({ properties: 'x', quantity: -1, idempotencyKey: 7, customerId: 1, featureKey: null, timestamp: false, id: 3 }, now, DEFAULT_METER_CONFIG);
    expect(c.ok).toBe(false);
    if (!c.ok) expect(c.reason).toMatch(/\(and 2 more\)$/);
  });

  it('still checks the window: a valid event a day old is fine, 40 days old is not', () => {
    expect(checkEvent(event({ timestamp: '2026-11-24T14:00:00Z' }), now, DEFAULT_METER_CONFIG).ok).toBe(true);
    const old = checkEvent(event({ timestamp: '2026-10-16T14:00:00Z' }), now, DEFAULT_METER_CONFIG);
    expect(old).toMatchObject({ ok: false, reason: expect.stringMatching(/grace window/) });
  });
});
