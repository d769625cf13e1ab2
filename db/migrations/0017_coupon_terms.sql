-- Reserved for coupon_terms: nothing to change yet.
SELECT 1;
