'use client';

import { useActionState, useEffect, useRef } from 'react';
import { CardFields, SubmitButton } from './card-fields';
import { emptyPayForm, type PayFormState } from './form-state';

export interface SavedCard {
  id: string;
  label: string;
  expiry: string;
  isDefault: boolean;
}

/**
 * The pay page's forms: pay with a saved card (the default chosen), and, on the sandbox,
 * pay with a new card. A decline is announced (role="alert") above the form it is about;
 * a field's error moves focus to that field.
 */
export function PayForms({
  action,
  amount,
  cards,
  newCard,
}: {
  action: (prev: PayFormState, form: FormData) => Promise<PayFormState>;
  amount: string;
  cards: SavedCard[];
  newCard: boolean;
}) {
  const [state, formAction] = useActionState(action, emptyPayForm);
  const root = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (state.seq === 0) return;
    // Focus the first field in error; else the message, so keyboard users land on it.
    const target = root.current?.querySelector<HTMLElement>('[aria-invalid="true"]') ?? root.current?.querySelector<HTMLElement>('[data-focus-on-answer]');
    target?.focus();
  }, [state]);

  const message = (form: 'saved' | 'new') =>
    state.form === form && (state.formError || state.notice) ? (
      <div className={state.formError ? 'alert alert-error' : 'alert alert-info'} role={state.formError ? 'alert' : 'status'} tabIndex={-1} data-focus-on-answer>
        {state.formError ?? state.notice}
        {state.formError && state.declined ? (form === 'saved' ? (newCard ? ' Try another card below.' : ' Try another card.') : ' Try another card.') : null}
      </div>
    ) : null;

  const defaultId = cards.find((c) => c.isDefault)?.id ?? cards[0]?.id;
  return (
    <div ref={root} className="pay-forms">
      {cards.length > 0 && (
        <form action={formAction} className="pay-form" aria-labelledby="saved-title">
          <input type="hidden" name="form" value="saved" />
          <h2 id="saved-title" className="section-title">
            {cards.length === 1 ? 'Pay with your saved card' : 'Pay with a saved card'}
          </h2>
          {message('saved')}
          {cards.length === 1 ? (
            <div className="saved-card">
              <input type="hidden" name="methodId" value={cards[0]!.id} />
              <CardIcon />
              <span>
                {cards[0]!.label} <span className="muted">· expires {cards[0]!.expiry}</span>
              </span>
            </div>
          ) : (
            <fieldset className="saved-cards">
              <legend className="visually-hidden">Card to charge</legend>
              {cards.map((c) => (
                <label key={c.id} className="saved-card choice">
                  <input type="radio" name="methodId" value={c.id} defaultChecked={c.id === defaultId} />
                  <CardIcon />
                  <span>
                    {c.label} <span className="muted">· expires {c.expiry}</span>
                  </span>
                </label>
              ))}
            </fieldset>
          )}
          <SubmitButton pendingText="Processing…">Pay {amount}</SubmitButton>
        </form>
      )}
      {newCard && (
        <form action={formAction} className="pay-form" aria-labelledby="new-title" noValidate>
          <input type="hidden" name="form" value="new" />
          <h2 id="new-title" className="section-title">
            {cards.length > 0 ? 'Or pay with another card' : 'Pay with a card'}
          </h2>
          {message('new')}
          <CardFields state={state.form === 'new' ? state : emptyPayForm} idPrefix="pay" />
          <p className="fine-print">The card is saved for future payments to this merchant.</p>
          <SubmitButton pendingText="Processing…" className={cards.length > 0 ? 'button secondary' : 'button primary'}>
            Pay {amount}
          </SubmitButton>
        </form>
      )}
    </div>
  );
}

export function CardIcon() {
  return (
    <svg className="card-icon" viewBox="0 0 24 16" width="24" height="16" aria-hidden="true" focusable="false">
      <rect x="0.5" y="0.5" width="23" height="15" rx="2.5" fill="none" stroke="currentColor" />
      <rect x="0.5" y="4" width="23" height="3" fill="currentColor" />
    </svg>
  );
}
