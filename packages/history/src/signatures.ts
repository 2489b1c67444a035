import { FailureClass as FC, infrastructureFailureClasses, normaliseConsoleText, clipSignature } from '@bootfarm/emulator';
import type { SignatureKind } from '@bootfarm/contracts';

/** What a signature is made of, from a stored result. */
export interface SignatureSource {
  outcome: string;
  failureClass: string | null;
  reason: string;
  /** The analyzer's normalised signature (result evidence `normalisedSignature`), when it gave one. */
  normalisedSignature: string | null;
}

/** A failure's signature: its title and whether the farm or the image/platform is to blame. */
export interface FailureSignatureOf {
  title: string;
  kind: SignatureKind;
  failureClass: string;
  /** The coarse form near-duplicate titles share (see {@link signatureJoinKey}). */
  joinKey: string;
}

/** Infrastructure failure classes: the farm's fault, never the image's. */
const INFRA = new Set<string>(infrastructureFailureClasses);

/**
 * The signature of a failed result, or null for a pass/cancel. An infrastructure error is titled
 * from its reason (normalised, so a port number or a pid does not split it) and kept apart as
 * `infrastructure`; a guest failure takes the analyzer's normalised signature.
 */
export function signatureOf(r: SignatureSource): FailureSignatureOf | null {
  if (r.outcome === 'passed' || r.outcome === 'canceled') return null;
  const infrastructure = r.outcome === 'infrastructure_error' || (r.failureClass !== null && INFRA.has(r.failureClass));
  const failureClass = r.failureClass ?? (infrastructure ? FC.HostSetupFailed : r.outcome);
  const title = infrastructure || !r.normalisedSignature
    ? clipSignature(`${failureClass}: ${normaliseConsoleText(r.reason)}`)
    : r.normalisedSignature;
  return { title, kind: infrastructure ? 'infrastructure' : 'product', failureClass, joinKey: signatureJoinKey(title) };
}

/**
 * The key near-duplicate titles share: case, punctuation and the placeholders the normaliser left
 * (`ADDR`, `N`, `GUID`) do not split a signature, so `Unable to mount root fs on unknown-block(N,N)`
 * and `unable to mount root fs on unknown-block(ADDR,N)` join; words do.
 */
export function signatureJoinKey(title: string): string {
  return title
    .toLowerCase()
    .replace(/\b(?:addr|n|guid)\b/g, ' ')
    .replace(/[^a-z0-9_]+/g, ' ')
    .trim()
    .replace(/\s+/g, ' ');
}
