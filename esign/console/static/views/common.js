// Bits several screens share: statuses, names, badges, the form that sends a selection as a batch.
import { announce, badge, clear, field, h, showFieldErrors } from "../lib/dom.js";
import { t } from "../lib/i18n.js";

export const STATUSES = ["invited", "form_in_progress", "form_completed", "signed_form_received", "forwarded",
  "rejected", "produced", "shipped", "delivery_failed", "delivered", "returned", "withdrawn"];

// A renewal's own steps before the CA (then it shares produced, shipped, … with first applications).
export const RENEWAL_STATUSES = ["draft", "e_approved", "filed", "at_ca", "rejected", "produced", "shipped",
  "delivery_failed", "delivered", "returned", "withdrawn", "expired"];

export const SHIPMENT_STATUSES = ["created", "handed_to_courier", "in_transit", "out_for_delivery", "delivered",
  "delivery_failed", "returned"];

export const DELIVERY_STATUSES = ["queued", "sent", "failed", "dead", "cancelled"];

const KIND = {
  invited: "neutral", form_in_progress: "neutral", form_completed: "info", signed_form_received: "info",
  forwarded: "info", rejected: "bad", produced: "good", shipped: "good", delivery_failed: "bad", delivered: "good",
  returned: "bad", withdrawn: "neutral", draft: "neutral", e_approved: "info", filed: "info", at_ca: "info",
  expired: "neutral",
};

export function statusBadge(status) {
  return badge(KIND[status] || "neutral", t(`status.${status}`, {}, status));
}

export function kindBadge(kind) {
  return badge(kind === "renewal" ? "info" : "neutral", t(`kind.${kind || "first"}`, {}, kind));
}

export function shipmentBadge(status) {
  const kind = { delivered: "good", delivery_failed: "bad", returned: "bad" }[status] || "info";
  return badge(kind, t(`sstatus.${status}`, {}, status));
}

export function deliveryBadge(status) {
  const kind = { sent: "good", failed: "bad", dead: "bad" }[status] || "neutral";
  return badge(kind, t(`dstatus.${status}`, {}, status));
}

export function personName(app) {
  return `${app.person.first_name} ${app.person.last_name}`;
}

/** The query of the current hash with `changes` applied, as a hash to navigate to. */
export function withQuery(path, query, changes) {
  const next = new URLSearchParams(query);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined || v === null || v === "" || v === false) next.delete(k);
    else next.set(k, v);
  }
  const s = next.toString();
  return `#${path}${s ? `?${s}` : ""}`;
}

/** The form that sends the selected rows (`selection`: id → name) as one batch and then opens the
 * batch's manifest: first applications forwarded to the CA, renewals filed. `send(ids, note)` makes
 * the call; `texts` are the screen's words (hint, none, button, buttonId, selected(n), done(n)). */
export function batchPanel(ctx, selection, texts, send) {
  const count = h("p", { class: "selected-count", "aria-live": "polite" });
  const note = h("input", { type: "text", maxlength: "500" });
  const button = h("button", { type: "submit", id: texts.buttonId }, texts.button);
  const summary = h("p", { class: "form-error", role: "alert", hidden: true });
  const result = h("div");
  const form = h("form", { class: "forward", novalidate: true },
    h("p", { class: "hint" }, texts.hint), count, field("note", t("apps.forward.note"), note), summary,
    button, result);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clear(result);
    if (selection.size === 0) {
      summary.textContent = texts.none;
      summary.hidden = false;
      return;
    }
    button.disabled = true;
    try {
      const manifest = await send([...selection.keys()], note.value.trim() || null);
      selection.clear();
      announce(texts.done(manifest.entries.length), "good", { keep: true });
      ctx.navigate(`#/batches/${manifest.batch.id}`);
    } catch (error) {
      showFieldErrors(form, error, summary);
      if (error.problem && Array.isArray(error.problem.not_ready)) {
        result.append(h("ul", { class: "plain" }, error.problem.not_ready.map((n) => {
          const id = n.application_id || n.renewal_id;
          return h("li", {}, `${selection.get(id) || id}: `, statusBadge(n.status));
        })));
      }
    } finally {
      button.disabled = false;
    }
  });
  return {
    el: form,
    update() {
      count.textContent = texts.selected(selection.size);
      if (selection.size) summary.hidden = true; // "select some first" no longer applies
    },
  };
}
