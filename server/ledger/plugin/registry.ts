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
  }

  /** For the engine's own reactions to its hooks: they run before any user plugin. */
  registerFirst(plugin: Plugin): void {
    if (this.#plugins.some((p) => p.name === plugin.name)) {
      throw new Error(`a plugin named "${plugin.name}" is already registered`);
    }
    this.#plugins.unshift(plugin);
    this.#implemented.clear();
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
