import type { CouponStore } from '../coupon/store';

export function createMemoryCouponStore(): CouponStore {
  return {};
}
