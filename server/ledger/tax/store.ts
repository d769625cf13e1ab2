/** Tax rate storage. (Being written: issue 4.) */
export interface TaxRateStore {}
