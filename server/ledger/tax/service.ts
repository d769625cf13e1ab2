import type { EngineContext } from '../context';

/** Tax rates. (Being written: issue 4.) */
export class TaxRateService {
  constructor(protected readonly ctx: EngineContext) {}
}
