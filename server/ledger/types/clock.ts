/** The engine never reads the system time directly: tests and test clocks inject one. */
export interface Clock {
  now(): Date;
  /** The same instant in epoch milliseconds, without making a Date (for hot paths). */
  nowMs?(): number;
}

export const systemClock: Clock = { now: () => new Date(), nowMs: () => Date.now() };

/** A clock that stands still until moved; only moves forward. */
export class ManualClock implements Clock {
  #now: Date;
  constructor(start: Date | string) {
    this.#now = new Date(start);
  }
  now(): Date {
    return new Date(this.#now);
  }
  nowMs(): number {
    return this.#now.getTime();
  }
  set(to: Date | string | number): void {
    const t = new Date(to);
    if (t < this.#now) throw new Error('a clock only moves forward');
    this.#now = t;
  }
  advance(ms: number): void {
    this.set(new Date(this.#now.getTime() + ms));
  }
}
