import { z } from 'zod';
import type { EngineContext } from '../context';
import { DEFAULT_ROUNDING, parseInput, ROUNDING_MODES, type Scope } from '../types';
import type { ScopeSettings } from './store';

export const DEFAULT_SCOPE_SETTINGS: ScopeSettings = { roundingMode: DEFAULT_ROUNDING };

/** A change of settings: the fields given change, the others stay. */
export const scopeSettingsSchema = z
  .object({
    /** `half_away_from_zero` (0.125 → 0.13, the default) or `half_even` (0.125 → 0.12, 0.135 → 0.14). */
    roundingMode: z.enum(ROUNDING_MODES),
  })
  .partial()
  .strict();
export type ScopeSettingsInput = z.input<typeof scopeSettingsSchema>;

/**
 * A scope's billing settings: today its rounding mode, applied wherever an invoice line's
 * amount is rounded (usage, seats, percentage charges, minimum true-ups, proration lines),
 * and to each line's discount and tax. Read by every invoice computation and every
 * mid-period change (one primary-key read); a change applies to drafts when they are
 * next refreshed, never to finalized invoices, nor to proration lines already made (a
 * change fixes them when it is made).
 */
export class ScopeSettingsService {
  constructor(private readonly ctx: EngineContext) {}

  async get(scope: Scope): Promise<ScopeSettings> {
    return (await this.ctx.store.scopes.settings(scope)) ?? { ...DEFAULT_SCOPE_SETTINGS };
  }

  /** Changes the given settings only; `scope_settings.updated` names the scope as `id`. */
  async update(scope: Scope, patch: ScopeSettingsInput): Promise<ScopeSettings> {
    const data = parseInput(scopeSettingsSchema, patch, 'scope settings');
    const before = await this.get(scope);
    const updated: ScopeSettings = { ...before, ...data };
    const id = `${scope.tenantId}/${scope.appId}`;
    await this.ctx.events.atomic(scope, async (record) => {
      await this.ctx.store.scopes.putSettings(scope, updated);
      record({ type: 'scope_settings.updated', object: { id, ...updated }, before: { id, ...before }, customerId: null });
    });
    return updated;
  }
}
