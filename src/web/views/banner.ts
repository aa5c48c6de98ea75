/** The connection banner: the current failure as a title, the library's message, and the next step. */
import { h, replace, flag } from "../dom.js";
import { explain, type Explained } from "../errors.js";

export interface Banner {
  el: HTMLElement;
  show(err: unknown, retrying: boolean): Explained;
  clear(): void;
}

/** An error block (also used inline by the pairing page and the agent views). */
export function errorBlock(e: Explained, retrying = false): HTMLElement {
  return h(
    "div",
    { class: "error-block", attrs: { "data-code": e.code } },
    h("strong", { class: "error-title", text: e.title }),
    e.detailRepeats ? null : h("p", { class: "error-detail", text: e.detail }),
    h("p", { class: "error-next" }, h("span", { class: "label", text: "Next step: " }), e.next),
    retrying ? h("p", { class: "error-retry", text: "Retrying automatically…" }) : null,
    // The library's full message (and the code, for support) stays one click away.
    e.detailRepeats
      ? h(
          "details",
          { class: "error-more small muted" },
          h("summary", { text: `Details (${e.code})` }),
          h("p", { class: "error-detail", text: e.detail }),
        )
      : null,
  );
}

export function createBanner(): Banner {
  const el = h("div", { class: "banner", attrs: { role: "alert", hidden: true } });
  return {
    el,
    show(err, retrying) {
      const e = explain(err);
      replace(el, errorBlock(e, retrying && e.transient));
      el.setAttribute("data-code", e.code);
      flag(el, "hidden", false);
      return e;
    },
    clear() {
      el.replaceChildren();
      el.removeAttribute("data-code");
      flag(el, "hidden", true);
    },
  };
}
