// Applications: filter by status, search by name or e-mail, page through thousands. Officers
// select applications whose signed form arrived and forward them as one batch; operators see the
// queue of applications waiting for the CA across institutions: first applications forwarded by
// their officers, and renewals whose Renewal Form the holder approved (kind filter).
import { api } from "../lib/api.js";
import { announce, empty, field, h, link, options, pager, put, section, table } from "../lib/dom.js";
import { formatDateTime, formatNumber, t } from "../lib/i18n.js";
import { RENEWAL_STATUSES, STATUSES, batchPanel, kindBadge, personName, statusBadge, withQuery } from "./common.js";

const PAGE = 50;
// The officer's selection survives paging and filtering, not a reload (nothing is stored).
const selection = new Map();
// What waits for the CA, by kind: a first application once forwarded, a renewal once at the CA.
const QUEUE_STATUS = { first: ["forwarded"], renewal: ["at_ca"] };
const ALL_STATUSES = [...STATUSES, ...RENEWAL_STATUSES.filter((s) => !STATUSES.includes(s))];

export function render(main, ctx) {
  return renderList(main, ctx, { path: "/applications", title: t("apps.title") });
}

export function renderQueue(main, ctx) {
  return renderList(main, ctx, { path: "/queue", title: t("apps.queueTitle"), queue: true });
}

async function renderList(main, ctx, { path, title, queue = false }) {
  ctx.setTitle(title);
  const officer = ctx.session.role === "institution_officer";
  const q = ctx.query;
  const kind = queue && QUEUE_STATUS[q.get("kind")] ? q.get("kind") : "";
  const status = queue ? "" : q.get("status") || "";
  const statuses = queue ? (QUEUE_STATUS[kind] || [...QUEUE_STATUS.first, ...QUEUE_STATUS.renewal]) : status || undefined;
  const offset = Math.max(0, Number(q.get("offset")) || 0);
  const institutions = officer ? [] : await api("GET", "/v1/institutions").catch(() => []);
  const names = new Map(institutions.map((i) => [i.id, i.name]));

  const statusSelect = h("select", {}, options(ALL_STATUSES, (s) => t(`status.${s}`), status,
    { allLabel: t("all") }));
  const kindSelect = h("select", {}, options(["first", "renewal"], (k) => t(`kind.${k}`), kind,
    { allLabel: t("apps.queue.all") }));
  const search = h("input", { type: "search", maxlength: "100", value: q.get("q") || "", autocomplete: "off" });
  const notFilled = h("input", { type: "checkbox", checked: q.get("form_not_filled") === "1" });
  const instSelect = h("select", {}, options(institutions.map((i) => i.id), (id) => names.get(id),
    q.get("institution_id") || "", { allLabel: t("all") }));
  const filters = h("form", { class: "filters", role: "search" },
    queue ? field("kind", t("apps.filter.kind"), kindSelect) : field("status", t("apps.filter.status"), statusSelect),
    field("q", t("apps.filter.q"), search),
    officer ? null : field("institution_id", t("apps.filter.institution"), instSelect),
    officer ? h("div", { class: "field check" }, notFilled, h("label", { for: "f-form_not_filled" }, t("apps.filter.notFilled")))
      : null,
    h("div", { class: "filter-actions" }, h("button", { type: "submit" }, t("filter")),
      h("a", { href: `#${path}`, class: "button secondary" }, t("clear"))));
  notFilled.id = "f-form_not_filled";
  filters.addEventListener("submit", (e) => {
    e.preventDefault();
    ctx.navigate(withQuery(path, "", {
      status: queue ? null : statusSelect.value,
      kind: queue ? kindSelect.value : null,
      q: search.value.trim(),
      form_not_filled: officer && notFilled.checked ? "1" : null,
      institution_id: officer ? null : instSelect.value,
    }));
  });

  const list = h("div", { id: "applications-list" });
  const forwardBox = officer ? forwardPanel(ctx) : null;
  put(main, h("h1", {}, title), filters, forwardBox ? forwardBox.el : null, list);

  await section(list, () => api("GET", "/v1/applications", {
    query: {
      status: statuses,
      q: q.get("q") || undefined,
      form_not_filled: officer && q.get("form_not_filled") === "1" ? "true" : undefined,
      institution_id: officer ? undefined : q.get("institution_id") || undefined,
      limit: PAGE,
      offset,
    },
  }), (page) => {
    announce(t("apps.count", { n: formatNumber(page.total) }));
    if (page.total === 0) return empty();
    const columns = [
      { label: t("apps.col.name"), cell: (a) => link(`#/applications/${a.id}`, personName(a)) },
      { label: t("apps.col.email"), cell: (a) => a.person.email, class: "wide-only" },
      !officer ? { label: t("apps.col.institution"), cell: (a) => names.get(a.institution_id) || t("none") } : null,
      { label: t("apps.col.kind"), cell: (a) => kindBadge(a.kind), class: officer ? "wide-only" : null },
      { label: t("apps.col.status"), cell: (a) => statusBadge(a.status) },
      { label: t("apps.col.updated"), cell: (a) => formatDateTime(a.updated_at), class: "wide-only" },
    ].filter(Boolean);
    if (officer) {
      columns.unshift({
        label: t("apps.col.select"), header: false, class: "select",
        cell: (a) => {
          const box = h("input", { type: "checkbox", "aria-label": t("apps.select", { name: personName(a) }),
            checked: selection.has(a.id), disabled: a.status !== "signed_form_received" });
          box.addEventListener("change", () => {
            if (box.checked) selection.set(a.id, personName(a));
            else selection.delete(a.id);
            forwardBox.update();
          });
          return box;
        },
      });
    }
    return [
      table(t("apps.caption"), columns, page.items),
      pager(page, (next) => ctx.navigate(withQuery(path, q, { offset: next || null }))),
    ];
  });
  if (forwardBox) forwardBox.update();
}

function forwardPanel(ctx) {
  return batchPanel(ctx, selection, {
    hint: t("apps.forward.hint"), none: t("apps.forward.none"), button: t("apps.forward"), buttonId: "forward",
    selected: (n) => t("apps.selected", { n }), done: (n) => t("apps.forward.ok", { n }),
  }, (ids, note) => api("POST", `/v1/institutions/${ctx.session.institution_id}/batches`, {
    body: { application_ids: ids, note },
  }));
}
