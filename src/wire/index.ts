/**
 * The wire format (docs/wire.md): message types and their JSON Schemas (./schema.ts), and the mapping from the
 * library's objects (./map.ts). Import from here.
 */
export * from './schema.js';
export * from './map.js';

