/** Coupon storage. (Being written: issue 4.) */
export interface CouponStore {}
