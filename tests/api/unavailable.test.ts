import { describe, expect, it } from 'vitest';
import { DatabaseUnavailableError, unavailability } from '@/server/http/unavailable';

/** Which failures mean "the database is unavailable" (503 with retry-after), and which are bugs (500). */
const err = (props: Record<string, unknown>, message = 'x') => Object.assign(new Error(message), props);

describe('unavailability', () => {
  it.each([
    ['a refused connection', err({ code: 'ECONNREFUSED' })],
    ['a reset connection', err({ code: 'ECONNRESET' })],
    ['a connection timing out', err({ code: 'ETIMEDOUT' })],
    ["postgres.js's connect timeout", err({ code: 'CONNECT_TIMEOUT' })],
    ['postgres.js: connection closed, ended, destroyed', err({ code: 'CONNECTION_CLOSED' })],
    ['postgres.js: connection ended', err({ code: 'CONNECTION_ENDED' })],
    ['postgres.js: connection destroyed', err({ code: 'CONNECTION_DESTROYED' })],
    ['SQLSTATE class 08 (connection exception)', err({ code: '08006' })],
    ['57P01 admin shutdown', err({ code: '57P01' })],
    ['57P02 crash shutdown', err({ code: '57P02' })],
    ['57P03 starting up / in recovery', err({ code: '57P03' })],
    ['53300 too many connections', err({ code: '53300' })],
    ["drizzle's wrapper around a refused connection", err({ cause: err({ code: 'ECONNREFUSED' }) }, 'Failed query: select 1')],
    ['an AggregateError of refused addresses', Object.assign(new AggregateError([err({ code: 'ECONNREFUSED' })]), {})],
    ['PGlite closed', new Error('PGlite is closed')],
    ['the circuit open', new DatabaseUnavailableError('circuit open')],
  ])('%s: the database cannot be reached', (_name, e) => {
    expect(unavailability(e)).toBe('connection');
  });

  it.each([
    ['57014 statement timeout', err({ code: '57014' })],
    ['40001 serialization failure', err({ code: '40001' })],
    ['40P01 deadlock', err({ cause: err({ code: '40P01' }) })],
  ])('%s: reachable, worth a retry', (_name, e) => {
    expect(unavailability(e)).toBe('transient');
  });

  it.each([
    ['a unique violation', err({ code: '23505' })],
    ['an undefined table (a bug)', err({ code: '42P01' })],
    ['a plain error', new Error('boom')],
    ['not an error', 'ECONNREFUSED'],
    ['null', null],
  ])('%s: not an availability problem', (_name, e) => {
    expect(unavailability(e)).toBeNull();
  });
});
