-- Reserved for entitlement_consume: nothing to change yet.
SELECT 1;
