/**
 * esbuild plugin: make @xterm/xterm 6 run under the relay's strict CSP (`style-src 'self'`, no 'unsafe-inline').
 *
 * xterm's DOM renderer styles itself in two ways that CSP forbids without 'unsafe-inline':
 *   1. three `<style>` elements it creates and fills at run time (viewport scrollbar colours, row dimensions,
 *      theme colours and fonts) — Chromium refuses to apply them and logs a violation for each;
 *   2. `setAttribute("style", …)` for 24-bit colours and contrast-adjusted cells (RowFactory._addStyle) — refused
 *      the same way, so truecolor output (every modern coding agent) would render uncoloured.
 *
 * CSP does not govern the CSSOM: a constructed CSSStyleSheet adopted by the document, and `element.style`, are
 * allowed (that is how CSP-strict apps style at run time). So this plugin rewrites exactly those call sites, at
 * bundle time, in xterm's own module:
 *   1. `createElement("style")` → `createElement("paseo-xterm-style")`, a custom element (src/web/term/
 *      adopted-style.ts) whose textContent fills an adopted CSSStyleSheet while it is connected;
 *   2. `_addStyle(el, css)` → `el.style.cssText += css` (the same declarations, through the CSSOM).
 * The policy itself stays as strict as it was: no nonces, no hashes, no 'unsafe-inline'. The alternatives were
 * worse: 'unsafe-inline' in style-src lets injected markup style (and exfiltrate through) the page; a nonce needs a
 * fresh value per response from the server and still does not cover style attributes; hashes cannot cover CSS that
 * xterm builds at run time from the theme, font and cell size. Each rewrite must match
 * the expected number of times, so an xterm upgrade that moves these call sites fails the build instead of
 * silently logging CSP violations; test/web/terminal-csp.test.ts checks the result in Chromium.
 */
import { readFile } from "node:fs/promises";

export const XTERM_STYLE_TAG = "paseo-xterm-style";

const REWRITES = [
  {
    what: "<style> elements → adopted stylesheets",
    pattern: /createElement\("style"\)/g,
    replace: () => `createElement("${XTERM_STYLE_TAG}")`,
    expected: 3,
  },
  {
    what: 'setAttribute("style") → CSSOM',
    pattern:
      /_addStyle\((\w+),(\w+)\)\{\1\.setAttribute\("style",`\$\{\1\.getAttribute\("style"\)\|\|""\}\$\{\2\};`\)\}/g,
    replace: (_m, el, css) => `_addStyle(${el},${css}){${el}.style.cssText+=${css}+";"}`,
    expected: 1,
  },
];

/** Apply the rewrites to xterm's module text; throws when one does not match exactly as expected. */
export function rewriteXterm(source) {
  let out = source;
  for (const r of REWRITES) {
    const found = out.match(r.pattern)?.length ?? 0;
    if (found !== r.expected) {
      throw new Error(
        `xterm CSP rewrite "${r.what}": expected ${r.expected} match(es), found ${found} — @xterm/xterm changed; update scripts/xterm-csp.js`,
      );
    }
    out = out.replace(r.pattern, r.replace);
  }
  if (/setAttribute\("style"|createElement\("style"\)/.test(out))
    throw new Error("xterm still sets inline styles after the CSP rewrite");
  return out;
}

export const xtermCspPlugin = {
  name: "xterm-csp",
  setup(build) {
    build.onLoad({ filter: /[\\/]@xterm[\\/]xterm[\\/]lib[\\/]xterm\.mjs$/ }, async (args) => ({
      contents: rewriteXterm(await readFile(args.path, "utf8")),
      loader: "js",
    }));
  },
};
