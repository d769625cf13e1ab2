/**
 * Typed engine errors. Each carries a stable `code` a program can branch on and a
 * message a person can read. The API layer maps codes to tRPC codes and HTTP statuses
 * once (server/trpc/errors.ts); nothing else inspects messages.
 */
export const ERROR_CODES = [
  'not_found',
  'conflict',
  'invalid',
  'illegal_state',
  'limit_exceeded',
  'unauthorized',
] as const;
export type LedgerErrorCode = (typeof ERROR_CODES)[number];

export interface FieldIssue {
  path: string;
  message: string;
}

// A registry symbol, not `instanceof`: a bundler may load this module twice (Next.js
// builds instrumentation and route handlers as separate bundles sharing one engine), and
// an error made by one copy must still be recognised by the other.
const LEDGER_ERROR = Symbol.for('ledger.error');

export class LedgerError extends Error {
  readonly [LEDGER_ERROR] = true;
  readonly code: LedgerErrorCode;
  readonly issues: FieldIssue[];

  constructor(code: LedgerErrorCode, message: string, issues: FieldIssue[] = []) {
    super(message);
    this.name = 'LedgerError';
    this.code = code;
    this.issues = issues;
  }
}

export const notFound = (what: string, id: string) =>
  new LedgerError('not_found', `${what} ${id} not found`);
export const conflict = (message: string) => new LedgerError('conflict', message);
export const invalid = (message: string, issues: FieldIssue[] = []) =>
  new LedgerError('invalid', message, issues);
export const illegalState = (message: string) => new LedgerError('illegal_state', message);

export function isLedgerError(e: unknown): e is LedgerError {
  return typeof e === 'object' && e !== null && (e as { [LEDGER_ERROR]?: boolean })[LEDGER_ERROR] === true;
}

/**
 * A rejected value as a message may show it: at most `max` characters, JSON-escaped (a
 * NUL reads `\u0000`), with the full length when it was cut. A 1 MB value in a request
 * never comes back whole in the answer.
 */
export function quote(value: string, max = 24): string {
  if (value.length <= max) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, max))}… (${value.length} characters)`;
}
