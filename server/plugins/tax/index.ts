/** The `tax` plugin: invoices taxed by an external tax service (service-calculator.ts). */
export { taxServiceCalculator, type TaxServiceOptions } from './service-calculator';
