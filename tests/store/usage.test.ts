import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { UsageEvent, UsageQuery } from '../../server/ledger/meter/types';
import type { Aggregation } from '../../server/ledger/plan/types';
import type { CustomerId, Scope } from '../../server/ledger/types';
import { otherAppOf, storeFactories, uniqueScope, useStore } from '../support/stores';
import { AGGREGATIONS, bruteForce, seededRandom, storedOf, usageEvent, type UsageEventInput } from '../support/usage';

/**
 * The UsageStore contract, for every store: memory, PGlite, and PostgreSQL when
 * TEST_DATABASE_URL is set. Each test works in a fresh scope.
 *
 * The SQL store answers whole hours from rollups and the partial hours at a range's
 * edges from raw events, so every aggregation is checked on ranges aligned and not
 * aligned to hours, and against a brute force over the raw events.
 */

const C = 'cst_usage_test' as CustomerId;
const F = 'api_calls';
const H = Date.parse('2025-03-10T10:00:00.000Z'); // an hour boundary
const at = (minutes: number, ms = 0) => new Date(H + minutes * 60_000 + ms);

describe.each(storeFactories())('$name store: usage', (factory) => {
  const store = useStore(factory, { beforeAll, afterAll });
  let s: Scope;
  beforeEach(() => {
    s = uniqueScope();
  });

  const ev = (input: Omit<UsageEventInput, 'timestamp'> & { timestamp: Date | string }) =>
    usageEvent({ customerId: C, featureKey: F, ...input });
  const agg = (aggregation: Aggregation, from: Date, to: Date, more: Partial<UsageQuery> = {}, sc: Scope = s) =>
    store().usage.aggregate(sc, { customerId: C, featureKey: F, aggregation, from, to, ...more });
  const all = async (from: Date, to: Date, sc: Scope = s) =>
    Object.fromEntries(await Promise.all(AGGREGATIONS.map(async (a) => [a, await agg(a, from, to, {}, sc)])));

  describe('exactly once', () => {
    it('stores a batch once: the same batch again inserts nothing and reports the stored events', async () => {
      const batch = [
        ev({ idempotencyKey: 'a', quantity: '2', timestamp: at(5) }),
        ev({ idempotencyKey: 'b', quantity: '3', timestamp: at(70) }),
        ev({ idempotencyKey: 'c', quantity: '4', timestamp: at(130) }),
      ];
      const first = await store().usage.insertEvents(s, batch);
      expect([...first.inserted].sort()).toEqual(['a', 'b', 'c']);
      expect(first.existing.size).toBe(0);

      const again = await store().usage.insertEvents(s, batch);
      expect(again.inserted.size).toBe(0);
      expect(again.existing).toEqual(new Map(batch.map((e) => [e.idempotencyKey, storedOf(e)])));
      expect(await agg('sum', at(0), at(180))).toBe('9');
      expect(await agg('count', at(0), at(180))).toBe('3');
    });

    it('a retried key with another payload is not stored: the first payload stays, and it is reported', async () => {
      const original = ev({ idempotencyKey: 'k', quantity: '2', timestamp: at(5) });
      await store().usage.insertEvents(s, [original]);
      const retry = ev({ idempotencyKey: 'k', quantity: '200', timestamp: at(6) });
      const r = await store().usage.insertEvents(s, [retry, ev({ idempotencyKey: 'new', quantity: '1', timestamp: at(7) })]);
      expect([...r.inserted]).toEqual(['new']);
      expect(r.existing.get('k')).toEqual(storedOf(original));
      expect(r.existing.get('k')!.quantity).toBe('2');
      expect(await agg('sum', at(0), at(60))).toBe('3');
    });

    it('concurrent inserts of the same batch store it once, and the totals are right', async () => {
      const batch = Array.from({ length: 120 }, (_, i) =>
        ev({ idempotencyKey: `c-${i}`, quantity: `${i % 7}.5`, timestamp: at(i * 3, i), distinctValue: `u${i % 11}` }),
      );
      const results = await Promise.all(Array.from({ length: 4 }, () => store().usage.insertEvents(s, batch)));
      // Every key inserted by exactly one call, and reported as existing by the others.
      for (const e of batch) {
        const winners = results.filter((r) => r.inserted.has(e.idempotencyKey));
        expect(winners).toHaveLength(1);
        for (const r of results.filter((x) => !x.inserted.has(e.idempotencyKey))) {
          expect(r.existing.get(e.idempotencyKey)).toEqual(storedOf(e));
        }
      }
      const from = at(-10);
      const to = at(400);
      const expected = Object.fromEntries(AGGREGATIONS.map((a) => [a, bruteForce(batch, { customerId: C, featureKey: F, aggregation: a, from, to })]));
      expect(await all(from, to)).toEqual(expected);
      expect(expected.count).toBe('120');
    });

    it('concurrent batches that overlap in opposite orders all complete (no deadlock) and store each key once', async () => {
      const events = Array.from({ length: 200 }, (_, i) =>
        ev({ idempotencyKey: `o-${i}`, quantity: '1', timestamp: at((i * 37) % 600), distinctValue: `u${i % 5}` }),
      );
      const forward = events.slice(0, 150);
      const backward = events.slice(50).reverse();
      const results = await Promise.all([
        store().usage.insertEvents(s, forward),
        store().usage.insertEvents(s, backward),
        store().usage.insertEvents(s, [...forward].reverse()),
        store().usage.insertEvents(s, backward.slice().reverse()),
      ]);
      const inserted = results.flatMap((r) => [...r.inserted]);
      expect(inserted).toHaveLength(200);
      expect(new Set(inserted).size).toBe(200);
      expect(await agg('count', at(-60), at(660))).toBe('200');
      expect(await agg('sum', at(0), at(600))).toBe('200');
      expect(await agg('unique_count', at(0), at(600))).toBe('5');
    });

    it('stores only the first of events sharing a key in one batch, and reports the later ones as existing', async () => {
      const first = ev({ idempotencyKey: 'dup', quantity: '1', timestamp: at(10) });
      const other = ev({ idempotencyKey: 'other', quantity: '2', timestamp: at(20) });
      const second = ev({ idempotencyKey: 'dup', quantity: '5', timestamp: at(30) });
      const third = ev({ idempotencyKey: 'dup', quantity: '7', timestamp: at(40) });
      const r = await store().usage.insertEvents(s, [first, other, second, third]);
      expect([...r.inserted].sort()).toEqual(['dup', 'other']);
      expect(r.existing).toEqual(new Map([['dup', storedOf(first)]]));
      expect(await all(at(0), at(60))).toEqual({ sum: '3', count: '2', max: '2', latest: '2', unique_count: '0' });
    });

    it('in-batch duplicates of a key stored earlier report the stored event', async () => {
      const stored = ev({ idempotencyKey: 'dup', quantity: '1', timestamp: at(10) });
      await store().usage.insertEvents(s, [stored]);
      const r = await store().usage.insertEvents(s, [
        ev({ idempotencyKey: 'dup', quantity: '5', timestamp: at(30) }),
        ev({ idempotencyKey: 'dup', quantity: '6', timestamp: at(31) }),
      ]);
      expect(r.inserted.size).toBe(0);
      expect(r.existing).toEqual(new Map([['dup', storedOf(stored)]]));
      expect(await agg('sum', at(0), at(60))).toBe('1');
    });

    it('an empty batch stores nothing', async () => {
      const r = await store().usage.insertEvents(s, []);
      expect(r.inserted.size).toBe(0);
      expect(r.existing.size).toBe(0);
    });
  });

  describe('aggregations', () => {
    // 09:30, 10:00 (on the hour), 10:45, 11:15, 12:00 (on the hour), 12:30
    const dataset = () => [
      ev({ idempotencyKey: 'e1', quantity: '1', timestamp: at(-30), distinctValue: null }),
      ev({ idempotencyKey: 'e2', quantity: '2.5', timestamp: at(0), distinctValue: 'u1' }),
      ev({ idempotencyKey: 'e3', quantity: '4', timestamp: at(45), distinctValue: 'u2' }),
      ev({ idempotencyKey: 'e4', quantity: '0.5', timestamp: at(75), distinctValue: 'u1' }),
      ev({ idempotencyKey: 'e5', quantity: '3', timestamp: at(120), distinctValue: 'u3' }),
      ev({ idempotencyKey: 'e6', quantity: '1.25', timestamp: at(150), distinctValue: 'u2' }),
    ];

    const cases: { name: string; from: Date; to: Date; want: Record<Aggregation, string> }[] = [
      {
        name: 'aligned to hours [10:00, 12:00)',
        from: at(0),
        to: at(120),
        want: { sum: '7', count: '3', max: '4', latest: '0.5', unique_count: '2' },
      },
      {
        name: 'aligned, around everything [09:00, 13:00)',
        from: at(-60),
        to: at(180),
        want: { sum: '12.25', count: '6', max: '4', latest: '1.25', unique_count: '3' },
      },
      {
        name: 'unaligned edges [09:30, 12:30): 12:30 excluded',
        from: at(-30),
        to: at(150),
        want: { sum: '11', count: '5', max: '4', latest: '3', unique_count: '3' },
      },
      {
        name: 'unaligned by a millisecond [09:30:00.001, 12:00:00.001)',
        from: at(-30, 1),
        to: at(120, 1),
        want: { sum: '10', count: '4', max: '4', latest: '3', unique_count: '3' },
      },
      {
        name: 'aligned start, unaligned end [10:00, 11:15)',
        from: at(0),
        to: at(75),
        want: { sum: '6.5', count: '2', max: '4', latest: '4', unique_count: '2' },
      },
      {
        name: 'unaligned start, aligned end [10:44, 12:00)',
        from: at(44),
        to: at(120),
        want: { sum: '4.5', count: '2', max: '4', latest: '0.5', unique_count: '2' },
      },
      {
        name: 'inside one hour [10:00:00.001, 10:45:00.001)',
        from: at(0, 1),
        to: at(45, 1),
        want: { sum: '4', count: '1', max: '4', latest: '4', unique_count: '1' },
      },
      {
        name: 'across one hour boundary, no whole hour [10:50, 11:20)',
        from: at(50),
        to: at(80),
        want: { sum: '0.5', count: '1', max: '0.5', latest: '0.5', unique_count: '1' },
      },
      {
        name: 'no events in range [13:00, 15:00)',
        from: at(180),
        to: at(300),
        want: { sum: '0', count: '0', max: '0', latest: '0', unique_count: '0' },
      },
      {
        name: 'empty range (from = to)',
        from: at(0),
        to: at(0),
        want: { sum: '0', count: '0', max: '0', latest: '0', unique_count: '0' },
      },
      {
        name: 'backwards range (from > to)',
        from: at(180),
        to: at(-60),
        want: { sum: '0', count: '0', max: '0', latest: '0', unique_count: '0' },
      },
    ];

    it.each(cases)('$name', async ({ from, to, want }) => {
      const events = dataset();
      await store().usage.insertEvents(s, events);
      expect(await all(from, to)).toEqual(want);
      // The reference agrees with the table above.
      for (const a of AGGREGATIONS) {
        expect(bruteForce(events, { customerId: C, featureKey: F, aggregation: a, from, to }), a).toBe(want[a]);
      }
    });

    it.each([
      ['on the hour', at(60)],
      ['inside an hour', at(77, 123)],
    ])('includes an event at `from` and excludes one at `to` (%s)', async (_, t) => {
      await store().usage.insertEvents(s, [
        ev({ idempotencyKey: 'at-from', quantity: '1', timestamp: t, distinctValue: 'a' }),
        ev({ idempotencyKey: 'at-to', quantity: '10', timestamp: new Date(t.getTime() + 3 * 3_600_000), distinctValue: 'b' }),
      ]);
      const to = new Date(t.getTime() + 3 * 3_600_000);
      expect(await all(t, to)).toEqual({ sum: '1', count: '1', max: '1', latest: '1', unique_count: '1' });
      // One millisecond later on both sides: the other event instead.
      expect(await all(new Date(t.getTime() + 1), new Date(to.getTime() + 1))).toEqual({
        sum: '10',
        count: '1',
        max: '10',
        latest: '10',
        unique_count: '1',
      });
      // Consecutive periods split at `to` count each event once.
      const before = await agg('sum', at(-600), to);
      const after = await agg('sum', to, at(6000));
      expect([before, after]).toEqual(['1', '10']);
    });

    it('latest breaks a tie of timestamps by the later event of the batch, then by the later batch', async () => {
      const t = at(30); // inside an hour
      await store().usage.insertEvents(s, [
        ev({ idempotencyKey: 'x1', quantity: '7', timestamp: t }),
        ev({ idempotencyKey: 'x2', quantity: '3', timestamp: t }),
        ev({ idempotencyKey: 'x0', quantity: '1', timestamp: at(29) }),
      ]);
      // Whole hours (rollups) and a raw edge agree.
      expect(await agg('latest', at(0), at(60))).toBe('3');
      expect(await agg('latest', at(1), at(59))).toBe('3');
      await store().usage.insertEvents(s, [ev({ idempotencyKey: 'x3', quantity: '5', timestamp: t })]);
      expect(await agg('latest', at(0), at(60))).toBe('5');
      expect(await agg('latest', at(1), at(59))).toBe('5');
      // An event of an earlier time, inserted later, does not displace it.
      await store().usage.insertEvents(s, [ev({ idempotencyKey: 'x4', quantity: '9', timestamp: at(29, 999) })]);
      expect(await agg('latest', at(0), at(60))).toBe('5');
      expect(await agg('latest', at(-60), at(120))).toBe('5');
    });

    it('latest is the value of the last event, whatever the order of arrival', async () => {
      await store().usage.insertEvents(s, [
        ev({ idempotencyKey: 'l3', quantity: '30', timestamp: at(150) }),
        ev({ idempotencyKey: 'l1', quantity: '10', timestamp: at(10) }),
      ]);
      await store().usage.insertEvents(s, [ev({ idempotencyKey: 'l2', quantity: '20', timestamp: at(70) })]);
      expect(await agg('latest', at(0), at(180))).toBe('30');
      expect(await agg('latest', at(0), at(120))).toBe('20');
      expect(await agg('latest', at(5), at(65))).toBe('10');
    });

    it('keeps decimals exact: 0.1 + 0.2 = 0.3, trailing zeros dropped, numeric (not text) max', async () => {
      await store().usage.insertEvents(s, [
        ev({ idempotencyKey: 'd1', quantity: '0.1', timestamp: at(5) }),
        ev({ idempotencyKey: 'd2', quantity: '0.2', timestamp: at(65) }),
      ]);
      expect(await agg('sum', at(0), at(120))).toBe('0.3'); // rollups
      expect(await agg('sum', at(1), at(119))).toBe('0.3'); // raw edges
      expect(await agg('sum', at(1), at(121))).toBe('0.3'); // both

      const s2 = uniqueScope();
      await store().usage.insertEvents(s2, [
        ev({ idempotencyKey: 'a', quantity: '12.50', timestamp: at(5) }),
        ev({ idempotencyKey: 'b', quantity: '9.990000', timestamp: at(10) }),
        ev({ idempotencyKey: 'c', quantity: '123456789012345678.123456789012', timestamp: at(70) }),
        ev({ idempotencyKey: 'd', quantity: '0.000000000001', timestamp: at(71) }),
        ev({ idempotencyKey: 'e', quantity: '0', timestamp: at(72) }),
      ]);
      expect(await agg('sum', at(0), at(60), {}, s2)).toBe('22.49');
      expect(await agg('max', at(0), at(60), {}, s2)).toBe('12.5');
      expect(await agg('latest', at(0), at(7), {}, s2)).toBe('12.5');
      expect(await agg('sum', at(0), at(120), {}, s2)).toBe('123456789012345700.613456789013');
      expect(await agg('sum', at(61), at(119), {}, s2)).toBe('123456789012345678.123456789013');
      expect(await agg('max', at(0), at(120), {}, s2)).toBe('123456789012345678.123456789012');
      expect(await agg('latest', at(0), at(120), {}, s2)).toBe('0');
      expect(await agg('sum', at(200), at(300), {}, s2)).toBe('0');
    });

    it('keeps customers and features apart', async () => {
      const other = 'cst_other' as CustomerId;
      await store().usage.insertEvents(s, [
        ev({ idempotencyKey: '1', quantity: '1', timestamp: at(5), distinctValue: 'a' }),
        ev({ idempotencyKey: '2', quantity: '10', timestamp: at(5), customerId: other, distinctValue: 'b' }),
        ev({ idempotencyKey: '3', quantity: '100', timestamp: at(5), featureKey: 'storage', distinctValue: 'c' }),
      ]);
      for (const [from, to] of [
        [at(0), at(60)],
        [at(1), at(59)],
      ] as const) {
        expect(await agg('sum', from, to)).toBe('1');
        expect(await agg('sum', from, to, { customerId: other })).toBe('10');
        expect(await agg('sum', from, to, { featureKey: 'storage' })).toBe('100');
        expect(await agg('unique_count', from, to, { featureKey: 'storage' })).toBe('1');
        expect(await agg('sum', from, to, { featureKey: 'nothing' })).toBe('0');
      }
    });
  });

  describe('scope isolation', () => {
    it("another tenant or app never sees A's usage, and stores A's idempotency keys as its own", async () => {
      const a = s;
      const b = uniqueScope();
      const app2 = otherAppOf(a);
      const batchA = [
        ev({ idempotencyKey: 'shared-1', quantity: '5', timestamp: at(10), distinctValue: 'u1' }),
        ev({ idempotencyKey: 'shared-2', quantity: '6', timestamp: at(70), distinctValue: 'u2' }),
      ];
      await store().usage.insertEvents(a, batchA);
      for (const other of [b, app2]) {
        expect(await all(at(0), at(120), other)).toEqual({ sum: '0', count: '0', max: '0', latest: '0', unique_count: '0' });
        expect(await all(at(1), at(119), other)).toEqual({ sum: '0', count: '0', max: '0', latest: '0', unique_count: '0' });
      }
      const batchB = [
        ev({ idempotencyKey: 'shared-1', quantity: '0.5', timestamp: at(10), distinctValue: 'x' }),
        ev({ idempotencyKey: 'shared-2', quantity: '0.25', timestamp: at(70), distinctValue: 'y' }),
      ];
      for (const other of [b, app2]) {
        const r = await store().usage.insertEvents(other, batchB);
        expect([...r.inserted].sort()).toEqual(['shared-1', 'shared-2']);
        expect(r.existing.size).toBe(0);
        expect(await agg('sum', at(0), at(120), {}, other)).toBe('0.75');
        expect(await agg('sum', at(1), at(119), {}, other)).toBe('0.75');
      }
      expect(await all(at(0), at(120), a)).toEqual({ sum: '11', count: '2', max: '6', latest: '6', unique_count: '2' });
      expect(await all(at(1), at(119), a)).toEqual({ sum: '11', count: '2', max: '6', latest: '6', unique_count: '2' });
      // A's keys, retried, are still A's.
      const again = await store().usage.insertEvents(a, batchA);
      expect(again.inserted.size).toBe(0);
      expect(again.existing.get('shared-1')).toEqual(storedOf(batchA[0]!));
    });
  });

  describe('aggregate() equals a brute force over the raw events', () => {
    it.each([1, 2, 3])('random events over three days, random ranges (seed %i)', async (seed) => {
      const rnd = seededRandom(seed * 7919);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      const DAY = 86_400_000;
      const start = Date.parse('2025-05-01T00:00:00Z') + Math.floor(rnd() * 3_600_000); // not on an hour
      const span = 3 * DAY;
      const customers = ['cst_a', 'cst_b'] as CustomerId[];
      const features = ['api_calls', 'storage'];

      const randomTime = () => {
        const r = rnd();
        const t = start + Math.floor(rnd() * span);
        if (r < 0.1) return Math.floor(t / 3_600_000) * 3_600_000; // on an hour
        if (r < 0.4) return Math.floor(t / 60_000) * 60_000; // on a minute: ties
        return t;
      };
      const randomQuantity = () => {
        const r = rnd();
        if (r < 0.05) return '0';
        const whole = Math.floor(rnd() * 1000);
        if (r < 0.4) return String(whole);
        const decimals = Math.floor(rnd() * 1e6).toString().padStart(6, '0').slice(0, 1 + Math.floor(rnd() * 6));
        return `${whole}.${decimals}`;
      };

      const stored: UsageEvent[] = [];
      const storedKeys = new Set<string>();
      const allKeys: string[] = [];
      let n = 0;
      while (n < 600) {
        const size = 1 + Math.floor(rnd() * 60);
        const batch: UsageEvent[] = [];
        for (let i = 0; i < size; i++, n++) {
          // Some keys repeat: retries of earlier batches and duplicates within this one.
          const key = allKeys.length && rnd() < 0.1 ? pick(allKeys) : `r-${n}`;
          allKeys.push(key);
          batch.push(
            usageEvent({
              idempotencyKey: key,
              customerId: pick(customers),
              featureKey: pick(features),
              quantity: randomQuantity(),
              timestamp: new Date(randomTime()),
              distinctValue: rnd() < 0.2 ? null : `user-${Math.floor(rnd() * 25)}`,
            }),
          );
        }
        const expectInserted = new Set<string>();
        for (const e of batch) {
          if (!storedKeys.has(e.idempotencyKey)) {
            storedKeys.add(e.idempotencyKey);
            expectInserted.add(e.idempotencyKey);
            stored.push(e);
          }
        }
        const r = await store().usage.insertEvents(s, batch);
        expect(r.inserted).toEqual(expectInserted);
        const repeats = new Set(batch.map((e) => e.idempotencyKey).filter((k, i, ks) => ks.indexOf(k) !== i));
        for (const e of batch) {
          if (!expectInserted.has(e.idempotencyKey) || repeats.has(e.idempotencyKey)) {
            const first = stored.find((x) => x.idempotencyKey === e.idempotencyKey)!;
            expect(r.existing.get(e.idempotencyKey)).toEqual(storedOf(first));
          }
        }
      }

      const times = stored.map((e) => e.timestamp.getTime());
      const randomBound = () => {
        const r = rnd();
        if (r < 0.25) return Math.floor((start + rnd() * span) / 3_600_000) * 3_600_000; // an hour
        if (r < 0.45) return pick(times); // exactly an event
        if (r < 0.5) return pick([start - DAY, start + span + DAY]); // outside
        return start - 3_600_000 + Math.floor(rnd() * (span + 2 * 3_600_000));
      };
      const mismatches: string[] = [];
      for (let i = 0; i < 50; i++) {
        let from = randomBound();
        let to = rnd() < 0.3 ? from + Math.floor(rnd() * 3 * 3_600_000) : randomBound();
        if (to < from && rnd() < 0.9) [from, to] = [to, from];
        const q = { customerId: pick(customers), featureKey: pick(features), from: new Date(from), to: new Date(to) };
        // One by one, and all five at once through aggregateMany: the same answers.
        const many = await store().usage.aggregateMany(s, AGGREGATIONS.map((aggregation) => ({ ...q, aggregation })));
        for (const [i, aggregation] of AGGREGATIONS.entries()) {
          const want = bruteForce(stored, { ...q, aggregation });
          const got = await store().usage.aggregate(s, { ...q, aggregation });
          for (const [how, value] of [['aggregate', got], ['aggregateMany', many[i]]] as const) {
            if (value !== want) {
              mismatches.push(`${how} ${aggregation} ${q.customerId}/${q.featureKey} [${q.from.toISOString()}, ${q.to.toISOString()}): got ${value}, want ${want}`);
            }
          }
        }
      }
      expect(mismatches).toEqual([]);
    });
  });
});
