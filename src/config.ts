/** The configuration schema and its validation live in src/config/ (schema.ts, index.ts); this keeps `./config.js` imports short. */
export * from './config/index.js';
