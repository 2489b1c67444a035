// Report renderers: pure functions of a RunCompliance (JSON, JUnit XML, HTML).
export { renderJsonReport, complianceJsonSchema, COMPLIANCE_SCHEMA_ID } from './json-report.js';
export { renderJUnitReport, RUN_SUITE_NAME } from './junit-report.js';
export type { JUnitReportOptions } from './junit-report.js';
export { renderHtmlReport } from './html-report.js';
