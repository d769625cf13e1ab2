export * from './errors';
export * from './ids';
export * from './money';
export * from './scope';
export * from './clock';
export * from './logger';
export * from './page';
export * from './validate';
