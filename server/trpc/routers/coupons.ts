import { router } from '../init';

export const couponsRouter = router({});
