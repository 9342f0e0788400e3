// The delivery log: what was sent to whom (recipients masked by the API) and whether it went.
// Officers see their institution's; operators see all and re-queue failed or dead messages.
import { api } from "../lib/api.js";
import { actionButton, announce, empty, field, h, link, options, pager, section, table } from "../lib/dom.js";
import { formatDateTime, formatNumber, t } from "../lib/i18n.js";
import { DELIVERY_STATUSES, deliveryBadge, withQuery } from "./common.js";

const PAGE = 50;

export async function render(main, ctx) {
  ctx.setTitle(t("deliveries.title"));
  const operator = ctx.session.role === "ca_operator";
  const q = ctx.query;
  const offset = Math.max(0, Number(q.get("offset")) || 0);
  const status = h("select", {}, options(DELIVERY_STATUSES, (s) => t(`dstatus.${s}`), q.get("status") || "",
    { allLabel: t("all") }));
  const channel = h("select", {}, options(["email", "sms"], (c) => t(`channel.${c}`), q.get("channel") || "",
    { allLabel: t("all") }));
  const filters = h("form", { class: "filters", role: "search" },
    field("status", t("deliveries.col.status"), status),
    field("channel", t("deliveries.filter.channel"), channel),
    h("div", { class: "filter-actions" }, h("button", { type: "submit" }, t("filter")),
      h("a", { href: "#/deliveries", class: "button secondary" }, t("clear"))));
  filters.addEventListener("submit", (e) => {
    e.preventDefault();
    ctx.navigate(withQuery("/deliveries", "", { status: status.value, channel: channel.value }));
  });
  const list = h("div");
  main.append(h("h1", {}, t("deliveries.title")), filters, list);
  const load = () => api("GET", "/v1/deliveries", { query: {
    status: q.get("status") || undefined, channel: q.get("channel") || undefined, limit: PAGE, offset,
  } });
  const draw = (page) => {
    announce(t("deliveries.count", { n: formatNumber(page.total) }));
    if (page.total === 0) return empty();
    const columns = [
      { label: t("deliveries.col.created"), cell: (d) => formatDateTime(d.created_at) },
      { label: t("deliveries.col.channel"), cell: (d) => t(`channel.${d.channel}`, {}, d.channel) },
      { label: t("deliveries.col.template"), cell: (d) => t(`tpl.${d.template}`, {}, d.template) },
      { label: t("deliveries.col.recipient"), cell: (d) => d.recipient },
      { label: t("deliveries.col.status"), cell: (d) => deliveryBadge(d.status) },
      { label: t("deliveries.col.attempts"), cell: (d) => String(d.attempts), class: "wide-only" },
      { label: t("deliveries.col.error"), cell: (d) => d.last_error || t("none"), class: "wide-only" },
      operator ? { label: t("deliveries.col.action"), cell: (d) => (["failed", "dead"].includes(d.status)
        ? actionButton(t("deliveries.resend"), () => api("POST", `/v1/deliveries/${d.id}/resend`),
          { small: true, success: t("deliveries.resent"), after: () => section(list, load, draw) })
        : d.application_id ? link(`#/applications/${d.application_id}`, t("shipment.application")) : t("none")) } : null,
    ].filter(Boolean);
    return [
      table(t("deliveries.caption"), columns, page.items),
      pager(page, (next) => ctx.navigate(withQuery("/deliveries", q, { offset: next || null }))),
    ];
  };
  await section(list, load, draw);
}
