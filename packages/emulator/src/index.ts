/**
 * @bootfarm/emulator: the emulator core. Turns a VM profile into an exact, contained backend
 * command line, boots an image through a throwaway overlay, captures the hostile console into
 * bounded lines and decides the boot's outcome. Imports nothing internal; no Nest, DB or Redis.
 */
export * from './boot.types.js';
export * from './vm.profile.js';
export * from './emulator.errors.js';
export * from './qemu-command.builder.js';
export * from './console-text.sanitizer.js';
export * from './console-line.splitter.js';
export * from './console.capture.js';
export * from './boot-stage.detector.js';
export * from './boot-failure.signatures.js';
export * from './boot-outcome.classifier.js';
export * from './boot-console.analyzer.js';
export * from './qmp.client.js';
export * from './file.hasher.js';
export * from './image-header.guard.js';
export * from './qemu.launcher.js';
export * from './replay.launcher.js';
export * from './failure-signature.normaliser.js';
export * from './guest-facts.extractor.js';
export * from './firmware.catalog.js';
export * from './profile.validator.js';
export * from './capability.probe.js';
export * from './xen/index.js';
