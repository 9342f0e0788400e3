// Bits several screens share: statuses, names, badges.
import { badge } from "../lib/dom.js";
import { t } from "../lib/i18n.js";

export const STATUSES = ["invited", "form_in_progress", "form_completed", "signed_form_received", "forwarded",
  "rejected", "produced", "shipped", "delivery_failed", "delivered", "returned", "withdrawn"];

// A renewal's own steps before the CA (then it shares produced, shipped, … with first applications).
export const RENEWAL_STATUSES = ["draft", "e_approved", "filed", "at_ca", "rejected", "produced", "shipped",
  "delivery_failed", "delivered", "returned", "withdrawn", "expired"];

export const SHIPMENT_STATUSES = ["created", "handed_to_courier", "in_transit", "out_for_delivery", "delivered",
  "delivery_failed", "returned"];

export const DELIVERY_STATUSES = ["queued", "sent", "failed", "dead"];

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
