import { router } from '../init';

export const taxRatesRouter = router({});
