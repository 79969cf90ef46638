/**
 * The wire format (docs/wire.md): message types and their JSON Schemas (./schema.ts), the mapping from the
 * library's objects (./map.ts) and the snake_case names of the live stream options (./config.ts). Import from here.
 */
export * from './schema.js';
export * from './map.js';
export * from './config.js';

export * from './session.js';
