/**
 * Turns one line of hostile guest console bytes into plain, safe text: UTF-8 decoded with
 * replacement characters, ANSI/VT escape sequences removed (edk2 emits `ESC[2J ESC[01;01H`
 * and colour codes), remaining C0/C1 control characters and Unicode bidi overrides removed.
 * Tabs survive. Pure.
 */

// ESC followed by: a CSI sequence (complete, or cut off at the end of the line); an OSC string
// ended by BEL, ST or the end of the line; a DCS/SOS/PM/APC string ended by ST or the end;
// a two-character sequence (ESC 7, ESC ( B ...); or nothing (a lone ESC).
// The character classes in each alternative are disjoint, so matching is linear.
const ESCAPE_SEQUENCE =
  /\x1b(?:\[[0-?]*[ -/]*[@-~]|\[[0-?]*[ -/]*$|\][^\x07\x1b]*(?:\x07|\x1b\\|$)|[PX^_][^\x1b]*(?:\x1b\\|$)|[ -/]*[0-~]|$)/g;

// C0 controls except TAB, DEL, C1 controls (U+0080..U+009F, e.g. U+009B, the 8-bit CSI),
// and the bidi embedding/override/isolate characters that can make a line display as
// something other than what it says.
const CONTROL_CHARACTERS = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

const decoder = new TextDecoder('utf-8', { fatal: false });

/** Plain text of one console line's raw bytes (which must not contain the line's `\n`). */
export function sanitizeConsoleBytes(bytes: Uint8Array): string {
  return sanitizeConsoleText(decoder.decode(bytes));
}

/** Plain text of an already decoded console line. */
export function sanitizeConsoleText(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, '').replace(CONTROL_CHARACTERS, '');
}
