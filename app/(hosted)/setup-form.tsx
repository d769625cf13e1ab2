'use client';

import { useActionState, useEffect, useRef } from 'react';
import { CardFields, SubmitButton } from './card-fields';
import { emptyCardForm, type CardFormState } from './form-state';

/** The sandbox's add-a-card form: a malformed card is told next to its field, which gets the focus. */
export function SetupForm({ action, cancelUrl }: { action: (prev: CardFormState, form: FormData) => Promise<CardFormState>; cancelUrl: string }) {
  const [state, formAction] = useActionState(action, emptyCardForm);
  const root = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (state.seq === 0) return;
    (root.current?.querySelector<HTMLElement>('[aria-invalid="true"]') ?? root.current?.querySelector<HTMLElement>('[data-focus-on-answer]'))?.focus();
  }, [state]);
  return (
    <form ref={root} action={formAction} className="pay-form" noValidate aria-labelledby="setup-title">
      {state.formError && (
        <div className="alert alert-error" role="alert" tabIndex={-1} data-focus-on-answer>
          {state.formError}
        </div>
      )}
      <CardFields state={state} idPrefix="setup" />
      <div className="actions">
        <SubmitButton pendingText="Saving…">Save card</SubmitButton>
        <a className="button link" href={cancelUrl}>
          Cancel
        </a>
      </div>
    </form>
  );
}
