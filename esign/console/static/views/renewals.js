// Renewals (officers): the institution's renewal applications by status. E-approved ones are
// selected and filed as one institutional renewal application (a batch, whose manifest downloads
// like a first-application batch's); a Renewal Form not yet approved can be sent again.
import { api } from "../lib/api.js";
import { actionButton, announce, empty, field, h, link, options, pager, put, section, table } from "../lib/dom.js";
import { formatDate, formatDateTime, formatNumber, t } from "../lib/i18n.js";
import { RENEWAL_STATUSES, batchPanel, statusBadge, withQuery } from "./common.js";

const PAGE = 50;
// The selection survives paging and filtering, not a reload (nothing is stored).
const selection = new Map();

const nameOf = (r) => `${r.first_name} ${r.last_name}`;

export async function render(main, ctx) {
  ctx.setTitle(t("renewals.title"));
  const q = ctx.query;
  const status = q.get("status") || "";
  const offset = Math.max(0, Number(q.get("offset")) || 0);

  const statusSelect = h("select", {}, options(RENEWAL_STATUSES, (s) => t(`status.${s}`), status, { allLabel: t("all") }));
  const filters = h("form", { class: "filters", role: "search" },
    field("status", t("renewals.filter.status"), statusSelect),
    h("div", { class: "filter-actions" }, h("button", { type: "submit" }, t("filter")),
      h("a", { href: "#/renewals", class: "button secondary" }, t("clear"))));
  filters.addEventListener("submit", (e) => {
    e.preventDefault();
    ctx.navigate(withQuery("/renewals", "", { status: statusSelect.value }));
  });

  const list = h("div", { id: "renewals-list" });
  const fileBox = filePanel(ctx);
  put(main, h("h1", {}, t("renewals.title")), h("p", { class: "intro" }, t("renewals.intro")), filters, fileBox.el, list);

  const load = () => api("GET", "/v1/renewals", { query: { status: status || undefined, limit: PAGE, offset } });
  const draw = (page) => {
    announce(t("renewals.count", { n: formatNumber(page.total) }));
    if (page.total === 0) return empty(t(`renewals.empty.${status}`, {}, t("empty")));
    const columns = [
      {
        label: t("apps.col.select"), header: false, class: "select",
        cell: (r) => {
          const box = h("input", { type: "checkbox", "aria-label": t("renewals.select", { name: nameOf(r) }),
            checked: selection.has(r.id), disabled: r.status !== "e_approved" });
          box.addEventListener("change", () => {
            if (box.checked) selection.set(r.id, nameOf(r));
            else selection.delete(r.id);
            fileBox.update();
          });
          return box;
        },
      },
      { label: t("apps.col.name"), cell: (r) => link(`#/applications/${r.id}`, nameOf(r)) },
      { label: t("batch.col.tckn"), cell: (r) => r.tckn_masked, class: "wide-only" },
      { label: t("apps.col.status"), cell: (r) => statusBadge(r.status) },
      { label: t("renewals.col.oldCert"), cell: (r) => [h("span", { class: "nowrap" }, r.old_certificate.serial), " · ",
        h("span", { class: "nowrap" }, formatDate(r.old_certificate.not_after))] },
      { label: t("renewals.col.approved"), cell: (r) => formatDateTime(r.e_approved_at), class: "wide-only" },
      { label: t("renewals.col.link"), cell: (r) => (r.status === "filed" ? formatDateTime(r.form_link_expires_at)
        : t("none")), class: "wide-only" },
      {
        label: t("renewals.col.action"),
        cell: (r) => (r.status === "filed"
          ? actionButton(t("renewals.resend.short"), () => api("POST", `/v1/renewals/${r.id}/renewal-form/resend`), {
            small: true, id: `resend-${r.id}`, ariaLabel: t("renewals.resend.label", { name: nameOf(r) }),
            success: (sent) => t("renewals.resent", { at: formatDateTime(sent.link_expires_at) }),
            after: () => section(list, load, draw) })
          : (r.batch_id ? link(`#/batches/${r.batch_id}`, t("batches.open")) : t("none"))),
      },
    ];
    return [
      table(t("renewals.caption"), columns, page.items),
      pager({ total: page.total, limit: PAGE, offset }, (next) => ctx.navigate(withQuery("/renewals", q,
        { offset: next || null }))),
    ];
  };
  await section(list, load, draw);
  fileBox.update();
}

function filePanel(ctx) {
  return batchPanel(ctx, selection, {
    hint: t("renewals.file.hint"), none: t("renewals.file.none"), button: t("renewals.file"),
    buttonId: "file-renewals", selected: (n) => t("renewals.selected", { n }), done: (n) => t("renewals.file.ok", { n }),
  }, (ids, note) => api("POST", `/v1/institutions/${ctx.session.institution_id}/renewal-batches`, {
    body: { renewal_ids: ids, note },
  }));
}
