'use client';

import { useFormStatus } from 'react-dom';
import type { CardFormState } from './form-state';

/**
 * A card number and an MM/YY expiry, each with its label and its error tied to it
 * (aria-describedby, aria-invalid). `idPrefix` keeps ids unique when two forms share a page.
 */
export function CardFields({ state, idPrefix }: { state: CardFormState; idPrefix: string }) {
  const numberError = state.fieldErrors.number;
  const expiryError = state.fieldErrors.expiry;
  const summary = [numberError, expiryError].filter(Boolean).join(' ');
  return (
    <div className="card-fields">
      {/* Always in the page, so screen readers announce the errors when they appear. */}
      <p className="visually-hidden" aria-live="polite">
        {summary}
      </p>
      <div className="field">
        <label htmlFor={`${idPrefix}-number`}>Card number</label>
        <input
          id={`${idPrefix}-number`}
          name="number"
          inputMode="numeric"
          autoComplete="cc-number"
          placeholder="1234 1234 1234 1234"
          maxLength={23}
          required
          defaultValue={state.values.number}
          aria-invalid={numberError ? true : undefined}
          aria-describedby={numberError ? `${idPrefix}-number-error` : undefined}
          key={`number-${state.seq}`}
        />
        {numberError && (
          <p className="field-error" id={`${idPrefix}-number-error`}>
            {numberError}
          </p>
        )}
      </div>
      <div className="field field-expiry">
        <label htmlFor={`${idPrefix}-expiry`}>Expiry (MM/YY)</label>
        <input
          id={`${idPrefix}-expiry`}
          name="expiry"
          inputMode="numeric"
          autoComplete="cc-exp"
          placeholder="MM/YY"
          maxLength={7}
          required
          defaultValue={state.values.expiry}
          aria-invalid={expiryError ? true : undefined}
          aria-describedby={expiryError ? `${idPrefix}-expiry-error` : undefined}
          key={`expiry-${state.seq}`}
        />
        {expiryError && (
          <p className="field-error" id={`${idPrefix}-expiry-error`}>
            {expiryError}
          </p>
        )}
      </div>
    </div>
  );
}

/** The form's submit button: disabled and saying so while the form is being sent (no double charge from a double click). */
export function SubmitButton({ children, pendingText, className = 'button primary', name, value }: { children: React.ReactNode; pendingText: string; className?: string; name?: string; value?: string }) {
  const { pending } = useFormStatus();
  return (
    <button type="submit" className={className} disabled={pending} aria-disabled={pending} name={name} value={value}>
      {pending ? pendingText : children}
    </button>
  );
}
