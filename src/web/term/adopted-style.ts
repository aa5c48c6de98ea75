/**
 * `<paseo-xterm-style>`: the stand-in for the `<style>` elements xterm.js creates (scripts/xterm-csp.js rewrites
 * xterm's `createElement("style")` to this tag at bundle time). The relay's CSP (`style-src 'self'`) refuses inline
 * `<style>` elements; constructed stylesheets adopted by the document are CSSOM, which CSP does not govern. So the
 * CSS text xterm assigns to `textContent` goes into a CSSStyleSheet that is adopted while the element is in the
 * document and dropped when xterm removes it. The element itself renders nothing (it has no children).
 */
export const XTERM_STYLE_TAG = "paseo-xterm-style";

/** Constructable stylesheets (Chrome 73+, Firefox 101+, Safari 16.4+). Without them xterm's run-time CSS is skipped. */
const SUPPORTED =
  typeof CSSStyleSheet === "function" &&
  "adoptedStyleSheets" in Document.prototype &&
  "replaceSync" in CSSStyleSheet.prototype;

class AdoptedStyle extends HTMLElement {
  readonly sheet: CSSStyleSheet | undefined = SUPPORTED ? new CSSStyleSheet() : undefined;
  private css = "";

  connectedCallback(): void {
    const doc = this.ownerDocument;
    if (this.sheet && !doc.adoptedStyleSheets.includes(this.sheet))
      doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, this.sheet];
  }

  disconnectedCallback(): void {
    const doc = this.ownerDocument;
    if (this.sheet) doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((s) => s !== this.sheet);
  }

  setCss(css: string): void {
    this.css = css;
    this.sheet?.replaceSync(css);
  }

  getCss(): string {
    return this.css;
  }
}

// xterm only ever writes and reads `textContent`; route it to the sheet (an accessor on the prototype shadows
// Node's, which would otherwise create a text node that nothing reads).
Object.defineProperty(AdoptedStyle.prototype, "textContent", {
  configurable: true,
  get(this: AdoptedStyle) {
    return this.getCss();
  },
  set(this: AdoptedStyle, value: string | null) {
    this.setCss(value ?? "");
  },
});

/** Register the element once (idempotent); call before creating a Terminal. */
export function defineAdoptedStyle(): void {
  if (!customElements.get(XTERM_STYLE_TAG)) customElements.define(XTERM_STYLE_TAG, AdoptedStyle);
}
