/**
 * @bootfarm/contracts — the names and shapes shared by scheduler, worker, dashboard and CLI:
 * enums, VM profiles, BullMQ job definitions and the HTTP API's DTOs. Zod only; safe in a browser.
 */
export * from './enums.js';
export * from './profile.js';
export * from './jobs.js';
export * from './api.js';
export * from './compliance.js';
export * from './matrix.js';
export * from './farm.js';
export * from './tenancy.js';
export * from './webhooks.js';
export * from './history.js';
export * from './cell.js';
export * from './fleet.js';
