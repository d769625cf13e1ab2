-- Reserved for charges_currencies: nothing to change yet.
SELECT 1;
