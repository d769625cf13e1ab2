import { describe, it, expect } from 'vitest';
import { TypeID } from 'typeid-js';
import { ledgerErrorOf } from '../support/errors';
import {
  ID_PREFIXES,
  isId,
  newId,
  parseId,
  type Entity,
  type InvoiceId,
  type PlanId,
} from '@/server/ledger/types/ids';


const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('entity ids', () => {
  it('a new plan id is "pln_" and a 26-character lowercase suffix', () => {
    const id = newId('plan');
    expect(id.startsWith('pln_')).toBe(true);
    expect(id).toMatch(/^pln_[0-9a-z]{26}$/);
  });

  it.each(Object.entries(ID_PREFIXES) as [Entity, string][])(
    'a new %s id has the prefix "%s_" and parses back as a %s id',
    (entity, prefix) => {
      const id = newId(entity);
      expect(id.startsWith(`${prefix}_`)).toBe(true);
      expect(parseId(entity, id)).toBe(id);
    },
  );

  it('a plan id round-trips through parseId unchanged', () => {
    const id = newId('plan');
    const parsed: PlanId = parseId('plan', id);
    expect(parsed).toBe(id);
    expect(isId('plan', id)).toBe(true);
  });

  it('two ids are never equal', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newId('event')));
    expect(ids.size).toBe(1000);
  });
});

describe('parseId checks the entity', () => {
  it('a plan id given where an invoice id is expected: invalid, naming "inv_" and "pln_"', () => {
    const planId = newId('plan');
    const err = ledgerErrorOf(() => parseId('invoice', planId));
    expect(err.code).toBe('invalid');
    expect(err.message).toContain('"inv_');
    expect(err.message).toContain('"pln_"');
    expect(err.message).toContain(planId);
    expect(err.issues.map((i) => i.path)).toEqual(['id']);
    expect(isId('invoice', planId)).toBe(false);
  });

  it.each([
    ['a suffix too short', 'pln_123'],
    ['an empty string', ''],
    ['no prefix and no suffix', 'hello'],
    ['no prefix at all', '01h455vb4pex5vsknk084sn02q'],
    ['an uppercase suffix', 'pln_01H455VB4PEX5VSKNK084SN02Q'],
    ['a suffix that overflows 128 bits (first character above 7)', 'pln_81h455vb4pex5vsknk084sn02q'],
    ['a suffix with a character outside Crockford base32 ("u")', 'pln_01h455vb4pex5vsknk084sn02u'],
    ['an uppercase prefix', 'PLN_01h455vb4pex5vsknk084sn02q'],
  ])('rejects %s: %j', (_label, value) => {
    const err = ledgerErrorOf(() => parseId('plan', value));
    expect(err.code).toBe('invalid');
    expect(err.message).toContain('expected "pln_');
    expect(isId('plan', value)).toBe(false);
  });

  it('never echoes a long rejected value whole: a 1 MB "id" is quoted by a prefix and its length', () => {
    const huge = `pln_${'x'.repeat(1_000_000)}`;
    const err = ledgerErrorOf(() => parseId('plan', huge));
    expect(err.message.length).toBeLessThan(200);
    expect(err.message).toContain('(1000004 characters)');
  });

  it('accepts a well-formed id from outside: "pln_01h455vb4pex5vsknk084sn02q"', () => {
    expect(parseId('plan', 'pln_01h455vb4pex5vsknk084sn02q')).toBe('pln_01h455vb4pex5vsknk084sn02q');
  });
});

describe('ids are TypeIDs holding a UUIDv7 (checked against typeid-js, the reference)', () => {
  it('typeid-js parses 10,000 new ids back unchanged; each holds a version-7, variant-10 UUID of the creation millisecond', () => {
    for (let i = 0; i < 10_000; i++) {
      const before = Date.now();
      const id = newId('event');
      const after = Date.now();
      const parsed = TypeID.fromString(id, 'evt');
      expect(parsed.toString()).toBe(id);
      const uuid = parsed.toUUID(); // xxxxxxxx-xxxx-7xxx-[89ab]xxx-xxxxxxxxxxxx
      expect(uuid[14]).toBe('7');
      expect('89ab').toContain(uuid[19]);
      const ms = parseInt(uuid.slice(0, 8) + uuid.slice(9, 13), 16);
      expect(ms).toBeGreaterThanOrEqual(before);
      expect(ms).toBeLessThanOrEqual(after);
    }
  });

  it('parseId accepts exactly what typeid-js accepts, for good and bad suffixes alike', () => {
    const good = TypeID.fromUUID('cst', '0190b1d2-3f4a-7c3b-8d9e-123456789abc').toString();
    const candidates = [
      good,
      'cst_' + '8'.padEnd(26, '0'), // first character above 7: over 128 bits
      'cst_' + '0'.repeat(25), // 25 characters
      'cst_' + '0'.repeat(27),
      'cst_01h455vb4pex5vsknk084sn0iu', // i and u are not in the alphabet
      'cst_01H455VB4PEX5VSKNK084SN02Q', // upper case
      'cst_7zzzzzzzzzzzzzzzzzzzzzzzzz', // the largest value
    ];
    for (const c of candidates) {
      let reference = true;
      try {
        TypeID.fromString(c, 'cst');
      } catch {
        reference = false;
      }
      expect(isId('customer', c), c).toBe(reference);
    }
  });
});

describe('ids sort by creation time', () => {
  it('10,000 ids made in a row (many in one millisecond) sort in the order they were made', () => {
    const ids = Array.from({ length: 10_000 }, () => newId('customer'));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('ids made at least 2 ms apart compare ascending, as strings', async () => {
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      made.push(newId('invoice'));
      await sleep(3);
    }
    const sorted = [...made].sort();
    expect(sorted).toEqual(made);
    for (let i = 1; i < made.length; i++) expect(made[i - 1]! < made[i]!).toBe(true);
  });
});

describe('ids are typed by entity (checked by tsc --noEmit, not at run time)', () => {
  it('a PlanId is not an InvoiceId, and a plain string is neither', () => {
    const voidInvoice = (id: InvoiceId): InvoiceId => id;
    const planId = newId('plan');
    // @ts-expect-error a plan id cannot be passed where an invoice id is expected
    voidInvoice(planId);
    // @ts-expect-error an unchecked string is not an id until parseId says so
    voidInvoice('inv_01h455vb4pex5vsknk084sn02q');
    expect(voidInvoice(parseId('invoice', 'inv_01h455vb4pex5vsknk084sn02q'))).toBe(
      'inv_01h455vb4pex5vsknk084sn02q',
    );
  });
});
