/** @bootfarm/inspect — untrusted image bytes in, typed facts out. Pure: no Nest, database or Redis. */
export { checkDeclaredFormat, ImageRejectedError, SNIFF_BYTES, type SniffedFormat } from './container.sniffer.js';
