/** The Xen backend (xl toolstack, ArmVirtXen guests). Re-exported from the package index. */
export * from './xl-config.builder.js';
export * from './xen-profile.validator.js';
export * from './xl-output.parser.js';
export * from './xl.runner.js';
export * from './xen.launcher.js';
