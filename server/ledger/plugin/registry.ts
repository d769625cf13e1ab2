import type { Logger } from '../types';
import type { HookName, LedgerHooks, Plugin } from './hooks';

/**
 * Holds the plugins and calls a hook on every plugin that implements it, in
 * registration order. A plugin that throws (or rejects) is logged with its name and the
 * hook; the others still run and the caller never sees the error: a broken metrics or
 * audit plugin must not fail a billing operation.
 */
export class PluginRegistry {
  readonly #plugins: Plugin[] = [];
  /** Which hooks some plugin implements, remembered until a plugin is registered. */
  #implemented = new Map<HookName, boolean>();
  /** The plugins implementing a hook, for `fire`; forgotten, as #implemented, when a plugin is registered. */
  #implementers = new Map<HookName, Plugin[]>();
  readonly #logger: Logger;

  constructor(logger: Logger, plugins: readonly Plugin[] = []) {
    this.#logger = logger;
    for (const p of plugins) this.register(p);
  }

  register(plugin: Plugin): void {
    if (this.#plugins.some((p) => p.name === plugin.name)) {
      throw new Error(`a plugin named "${plugin.name}" is already registered`);
    }
    this.#plugins.push(plugin);
    this.#implemented.clear();
    this.#implementers.clear();
  }

  /** For the engine's own reactions to its hooks: they run before any user plugin. */
  registerFirst(plugin: Plugin): void {
    if (this.#plugins.some((p) => p.name === plugin.name)) {
      throw new Error(`a plugin named "${plugin.name}" is already registered`);
    }
    this.#plugins.unshift(plugin);
    this.#implemented.clear();
    this.#implementers.clear();
  }

  get plugins(): readonly Plugin[] {
    return this.#plugins;
  }

  /** Whether any plugin implements `hook`: lets hot paths skip building a payload nobody reads. */
  implements(hook: HookName): boolean {
    let known = this.#implemented.get(hook);
    if (known === undefined) {
      known = this.#plugins.some((p) => typeof p[hook] === 'function');
      this.#implemented.set(hook, known);
    }
    return known;
  }

  /**
   * For hot paths (onEntitlementChecked): calls every plugin implementing `hook` at once,
   * synchronously, and returns nothing to await. `emit` is an async function awaiting each
   * plugin in turn: a promise and a microtask per call, which cost an entitlement hit (a
   * map lookup) as much again. A plugin that throws, or returns a promise that rejects, is
   * logged as in `emit`.
   */
  fire<H extends HookName>(hook: H, ...args: Parameters<LedgerHooks[H]>): void {
    let implementers = this.#implementers.get(hook);
    if (implementers === undefined) this.#implementers.set(hook, (implementers = this.#plugins.filter((p) => typeof p[hook] === 'function')));
    for (const plugin of implementers) {
      try {
        const r = (plugin[hook] as (...a: Parameters<LedgerHooks[H]>) => unknown).apply(plugin, args);
        if (r instanceof Promise) r.catch((err: unknown) => this.#failed(plugin, hook, err));
      } catch (err) {
        this.#failed(plugin, hook, err);
      }
    }
  }

  #failed(plugin: Plugin, hook: HookName, err: unknown): void {
    this.#logger.error(`plugin "${plugin.name}" failed in ${hook}`, {
      plugin: plugin.name,
      hook,
      error: err instanceof Error ? err.message : String(err),
    });
  }

  async emit<H extends HookName>(hook: H, ...args: Parameters<LedgerHooks[H]>): Promise<void> {
    for (const plugin of this.#plugins) {
      const fn = plugin[hook] as ((...a: Parameters<LedgerHooks[H]>) => unknown) | undefined;
      if (!fn) continue;
      try {
        await fn.apply(plugin, args);
      } catch (err) {
        this.#logger.error(`plugin "${plugin.name}" failed in ${hook}`, {
          plugin: plugin.name,
          hook,
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }
}
