/**
 * Redaction helpers: paseo never echoes a pairing secret or a whole pairing link. Anything user-supplied that may
 * hold an offer goes through `redact()` before it reaches an error message or a log line.
 */
const OFFER_FRAGMENT = /#offer=[A-Za-z0-9_\-=%.]*/g;
// base64url secrets (43 chars) and offers; "/" is excluded so that long file paths stay readable in hints.
const LONG_TOKEN = /[A-Za-z0-9_\-+=]{40,}/g;

/** Replace offer fragments and long base64-looking tokens with a short marker; keep the rest for context. */
export function redact(text: string): string {
  return text.replace(OFFER_FRAGMENT, "#offer=<redacted>").replace(LONG_TOKEN, "<redacted>");
}

/** A short, safe description of user input: its length and the first characters only when they cannot be secret. */
export function describeInput(text: string): string {
  const clean = redact(text.trim());
  return clean.length > 60 ? `${clean.slice(0, 57)}...` : clean;
}
