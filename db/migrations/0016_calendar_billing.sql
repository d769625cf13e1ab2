-- Reserved for calendar_billing: nothing to change yet.
SELECT 1;
