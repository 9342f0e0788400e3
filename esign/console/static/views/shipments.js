// Shipments (operators): stuck ones first, then the list with filters; one shipment's timeline
// and every raw carrier event.
import { api } from "../lib/api.js";
import { details, empty, field, h, link, options, pager, section, table } from "../lib/dom.js";
import { formatDateTime, formatNumber, t } from "../lib/i18n.js";
import { SHIPMENT_STATUSES, shipmentBadge, withQuery } from "./common.js";

const PAGE = 50;

function shipmentTable(caption, items) {
  return table(caption, [
    { label: t("shipments.col.tracking"), cell: (s) => link(`#/shipments/${s.id}`, s.tracking_number || t("shipments.unregistered")) },
    { label: t("shipments.col.recipient"), cell: (s) => s.recipient_name },
    { label: t("shipments.col.city"), cell: (s) => s.city },
    { label: t("shipments.col.status"), cell: (s) => shipmentBadge(s.status) },
    { label: t("shipments.col.since"), cell: (s) => formatDateTime(s.status_at || s.created_at), class: "wide-only" },
  ], items, { rowClass: (s) => (s.stuck_flagged_at ? "stuck" : null) });
}

export async function renderList(main, ctx) {
  ctx.setTitle(t("shipments.title"));
  const q = ctx.query;
  const offset = Math.max(0, Number(q.get("offset")) || 0);
  const status = h("select", {}, options(SHIPMENT_STATUSES, (s) => t(`sstatus.${s}`), q.get("status") || "",
    { allLabel: t("all") }));
  const city = h("input", { type: "text", maxlength: "100", value: q.get("city") || "" });
  const filters = h("form", { class: "filters", role: "search" },
    field("status", t("shipments.col.status"), status),
    field("city", t("shipments.filter.city"), city),
    h("div", { class: "filter-actions" }, h("button", { type: "submit" }, t("filter")),
      h("a", { href: "#/shipments", class: "button secondary" }, t("clear"))));
  filters.addEventListener("submit", (e) => {
    e.preventDefault();
    ctx.navigate(withQuery("/shipments", "", { status: status.value, city: city.value.trim() }));
  });
  const stuck = h("div");
  const list = h("div");
  main.append(h("h1", {}, t("shipments.title")),
    h("section", { "aria-labelledby": "h-stuck" }, h("h2", { id: "h-stuck" }, t("shipments.stuck")), stuck),
    h("section", { "aria-labelledby": "h-all" }, h("h2", { id: "h-all" }, t("shipments.caption")), filters, list));
  await Promise.all([
    section(stuck, () => api("GET", "/v1/shipments/stuck", { query: { limit: 20 } }), (page) => (page.total
      ? [shipmentTable(t("shipments.stuck"), page.items),
        page.total > page.items.length ? h("p", {}, formatNumber(page.total)) : null]
      : empty(t("shipments.stuck.none")))),
    section(list, () => api("GET", "/v1/shipments", { query: {
      status: q.get("status") || undefined, city: q.get("city") || undefined, limit: PAGE, offset,
    } }), (page) => (page.total
      ? [shipmentTable(t("shipments.caption"), page.items),
        pager(page, (next) => ctx.navigate(withQuery("/shipments", q, { offset: next || null })))]
      : empty())),
  ]);
}

export async function renderOne(main, ctx) {
  const [id] = ctx.params;
  ctx.setTitle(t("shipments.title"));
  const body = h("div");
  main.append(h("p", { class: "crumbs" }, link("#/shipments", t("back"))), body);
  await section(body, () => api("GET", `/v1/shipments/${id}`), (s) => {
    const title = t("shipment.title", { number: s.tracking_number || t("shipments.unregistered") });
    ctx.setTitle(title);
    return [
      h("h1", {}, title),
      h("p", { class: "status-line" }, shipmentBadge(s.status)),
      details([
        [t("shipments.col.recipient"), s.recipient_name],
        [t("field.mobile"), s.mobile_masked],
        [t("shipment.address"), s.city],
        [t("app.shipment.carrier"), s.carrier],
        [t("shipments.col.stuck"), s.stuck_flagged_at ? formatDateTime(s.stuck_flagged_at) : t("no")],
      ]),
      h("p", {}, link(`#/applications/${s.application_id}`, t("shipment.application"))),
      h("section", { "aria-labelledby": "h-st" }, h("h2", { id: "h-st" }, t("shipment.timeline")),
        s.timeline.length ? h("ol", { class: "timeline" }, s.timeline.map((step) => h("li", {},
          h("time", { datetime: step.occurred_at }, formatDateTime(step.occurred_at)), " ", shipmentBadge(step.status),
          step.location ? h("span", { class: "by" }, step.location) : null))) : empty()),
      h("section", { "aria-labelledby": "h-ce" }, h("h2", { id: "h-ce" }, t("shipment.events")),
        s.carrier_events.length ? table(t("shipment.events"), [
          { label: t("shipment.col.received"), cell: (e) => formatDateTime(e.received_at) },
          { label: t("shipment.col.carrierStatus"), cell: (e) => e.carrier_status },
          { label: t("shipment.col.status"), cell: (e) => (e.status ? shipmentBadge(e.status) : t("none")) },
          { label: t("shipment.col.outcome"), cell: (e) => t(`outcome.${e.outcome}`, {}, e.outcome) },
        ], s.carrier_events) : empty(t("shipment.events.none"))),
    ];
  });
}
