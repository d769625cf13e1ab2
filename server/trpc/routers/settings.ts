import { scopeSettingsSchema } from '../../ledger';
import { apiKeyProcedure, router } from '../init';

/**
 * The scope's billing settings: `roundingMode`, how every invoice line's exact amount
 * becomes minor units (`half_away_from_zero`, the default, or `half_even`).
 */
export const settingsRouter = router({
  get: apiKeyProcedure.query(({ ctx }) => ctx.ledger.settings.get(ctx.scope)),
  update: apiKeyProcedure.input(scopeSettingsSchema).mutation(({ ctx, input }) => ctx.ledger.settings.update(ctx.scope, input)),
});
