/** What the hosted pages' forms answer (shared by the server actions and the client forms; no server code here). */

/** What a card form sends back: errors by field, or one for the whole form (a decline). */
export interface CardFormState {
  /** Changes on every answer, so the form can move focus to what it says. */
  seq: number;
  fieldErrors: { number?: string; expiry?: string };
  formError: string | null;
  /** What the person typed, kept on an error (never the number after a success). */
  values: { number: string; expiry: string };
}

export const emptyCardForm: CardFormState = { seq: 0, fieldErrors: {}, formError: null, values: { number: '', expiry: '' } };

/** The pay page's forms: which one the answer is for (the saved cards or a new card), and a payment not settled yet. */
export interface PayFormState extends CardFormState {
  form: 'saved' | 'new' | null;
  notice: string | null;
  /** The provider declined the card (not a malformed form): the customer should try another. */
  declined?: boolean;
}

export const emptyPayForm: PayFormState = { ...emptyCardForm, form: null, notice: null };
