import { describe, expect, it } from 'vitest';
import { errorSummary } from '@/server/ledger';

describe('errorSummary: what a log line says of a failed store call', () => {
  it("is the driver's error (code and message), never drizzle's wrapper with the SQL and its values", () => {
    const driver = Object.assign(new Error('duplicate key value violates unique constraint "usage_events_pkey"'), { code: '23505' });
    const wrapper = Object.assign(new Error('Failed query: insert into usage_events values ($1, $2)\nparams: cst_secret,ada@example.com'), { cause: driver });
    expect(errorSummary(wrapper)).toEqual({ error: 'duplicate key value violates unique constraint "usage_events_pkey"', code: '23505' });
    expect(JSON.stringify(errorSummary(wrapper))).not.toContain('ada@example.com');
  });

  it('a wrapper without its cause says only that a query failed; a long message is cut', () => {
    expect(errorSummary(new Error('Failed query: select $1\nparams: secret'))).toEqual({ error: 'query failed' });
    expect(errorSummary(new Error('x'.repeat(10_000))).error).toHaveLength(300);
    expect(errorSummary(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toEqual({
      error: 'connect ECONNREFUSED 127.0.0.1:5432',
      code: 'ECONNREFUSED',
    });
  });
});
