import type { Database } from '../../../db/client';
import type { CouponStore } from '../coupon/store';

export function createPostgresCouponStore(_db: Database): CouponStore {
  return {};
}
