/**
 * @bootfarm/contracts — the names and shapes shared by scheduler, worker, dashboard and CLI:
 * enums, VM profiles, BullMQ job definitions and the HTTP API's DTOs. Zod only; safe in a browser.
 */
export * from './enums.js';
export * from './profile.js';
export * from './jobs.js';
export * from './api.js';
