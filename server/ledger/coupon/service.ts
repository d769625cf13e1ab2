import type { EngineContext } from '../context';

/** Coupons. (Being written: issue 4.) */
export class CouponService {
  constructor(protected readonly ctx: EngineContext) {}
}
