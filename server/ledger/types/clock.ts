/** The engine never reads the system time directly: tests and test clocks inject one. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock that stands still until moved; only moves forward. */
export class ManualClock implements Clock {
  #now: Date;
  constructor(start: Date | string) {
    this.#now = new Date(start);
  }
  now(): Date {
    return new Date(this.#now);
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
