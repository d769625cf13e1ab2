-- Reserved for wallets: nothing to change yet.
SELECT 1;
