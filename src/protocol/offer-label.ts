/**
 * The one rule for an offer's label, used wherever a label is made or read: the offer codec (offer.ts), the offer
 * store (daemon/offer-store.ts) and `paseo daemon pair --label` (cli/commands/pair.ts). A label is shown in lists
 * and terminals, so it is short and holds no control characters (no escape sequences in someone's terminal).
 */
export const MAX_OFFER_LABEL_CHARS = 64;

/** Why `label` is not a valid offer label ("must …", to follow the caller's subject), or undefined when it is. */
export function offerLabelProblem(label: string): string | undefined {
  const chars = [...label].length;
  if (chars === 0 || chars > MAX_OFFER_LABEL_CHARS)
    return `must be 1 to ${MAX_OFFER_LABEL_CHARS} characters (got ${chars})`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(label)) return "must not contain control characters";
  return undefined;
}
