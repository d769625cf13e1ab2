import { router } from '../init';

/** The portal's usage page (/portal/usage): filled in by the usage work. */
export const accountUsageRouter = router({});
