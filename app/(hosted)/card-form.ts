import { isLedgerError, type SandboxCardInput } from '@/server/ledger';
import type { CardFormState } from './form-state';

const sentence = (s: string) => {
  const t = s.trim();
  return t ? t[0]!.toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.') : t;
};

/**
 * Reads the card number and an "MM/YY" (or "MM/YYYY") expiry from a form. The number's
 * own checks (length, Luhn, a test card, not expired) are the engine's; here only what
 * the form's shape needs.
 */
export function readCard(form: FormData, seq: number): { card: SandboxCardInput } | { state: CardFormState } {
  const number = String(form.get('number') ?? '').slice(0, 40);
  const expiry = String(form.get('expiry') ?? '').slice(0, 10);
  const values = { number, expiry };
  const fieldErrors: CardFormState['fieldErrors'] = {};
  if (!number.trim()) fieldErrors.number = 'Enter your card number.';
  const m = /^\s*(\d{1,2})\s*\/\s*(\d{2}|\d{4})\s*$/.exec(expiry);
  const month = m ? Number(m[1]) : NaN;
  const year = m ? (m[2]!.length === 2 ? 2000 + Number(m[2]) : Number(m[2])) : NaN;
  if (!expiry.trim()) fieldErrors.expiry = 'Enter the expiry date, as MM/YY.';
  else if (!m || month < 1 || month > 12) fieldErrors.expiry = 'Enter the expiry date as MM/YY, for example 12/34.';
  if (fieldErrors.number || fieldErrors.expiry) return { state: { seq, fieldErrors, formError: null, values } };
  return { card: { number, expMonth: month, expYear: year } };
}

/** The engine's checks of a card, in the words of a card form (Stripe's where it has them). */
const CARD_WORDS: Record<string, string> = {
  '12 to 19 digits': 'Your card number is incomplete.',
  'fails the Luhn check': 'Your card number is invalid.',
  'not a sandbox test card': 'This is the sandbox: use one of the test card numbers listed.',
  expired: 'Your card has expired.',
};

/** An engine error about the card, as the form shows it: next to its field when it names one. */
export function cardErrorState(e: unknown, seq: number, values: CardFormState['values']): CardFormState | null {
  if (!isLedgerError(e) || e.code !== 'invalid') return null;
  const issue = e.issues[0];
  const words = (issue && CARD_WORDS[issue.message]) ?? sentence(e.message);
  if (issue?.path === 'number') return { seq, fieldErrors: { number: words }, formError: null, values };
  if (issue?.path === 'expYear' || issue?.path === 'expMonth') return { seq, fieldErrors: { expiry: words }, formError: null, values };
  return { seq, fieldErrors: {}, formError: sentence(e.message), values };
}

export const sentenceOf = sentence;

