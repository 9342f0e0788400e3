// Institutions (operators): create, list, and one institution with its funnel, its NES officers
// and their activity (the batches they forwarded).
import { api } from "../lib/api.js";
import {
  announce, details, empty, field, h, link, onSubmit, section, table,
} from "../lib/dom.js";
import { formatDateTime, formatNumber, t } from "../lib/i18n.js";
import { STATUSES } from "./common.js";

export async function renderList(main, ctx) {
  ctx.setTitle(t("institutions.title"));
  const list = h("div");
  const name = h("input", { type: "text", maxlength: "200", autocomplete: "organization" });
  const summary = h("p", { class: "form-error", role: "alert", hidden: true });
  const form = h("form", { class: "card inline", novalidate: true, id: "institution-form" },
    h("h2", {}, t("institutions.create")), field("name", t("institutions.col.name"), name), summary,
    h("button", { type: "submit" }, t("institutions.create.do")));
  const load = () => api("GET", "/v1/institutions");
  const draw = (items) => (items.length
    ? table(t("institutions.caption"), [
      { label: t("institutions.col.name"), cell: (i) => link(`#/institutions/${i.id}`, i.name) },
      { label: t("institutions.col.created"), cell: (i) => formatDateTime(i.created_at) },
    ], items)
    : empty());
  onSubmit(form, summary, async () => {
    const created = await api("POST", "/v1/institutions", { body: { name: name.value.trim() } });
    announce(t("institutions.created", { name: created.name }), "good");
    name.value = "";
    await section(list, load, draw);
  });
  main.append(h("h1", {}, t("institutions.title")), form, list);
  await section(list, load, draw);
}

export async function renderOne(main, ctx) {
  const [id] = ctx.params;
  const head = h("h1", {}, t("institutions.title"));
  const summary = h("div");
  const officers = h("div");
  const activity = h("div");
  main.append(h("p", { class: "crumbs" }, link("#/institutions", t("back"))), head,
    h("p", {}, link(`#/applications?institution_id=${id}`, t("institution.applications"))),
    h("section", { "aria-labelledby": "h-i-sum" }, h("h2", { id: "h-i-sum" }, t("institution.summary")), summary),
    h("div", { class: "columns" },
      h("section", { "aria-labelledby": "h-i-off" }, h("h2", { id: "h-i-off" }, t("institution.officers")), officers),
      h("section", { "aria-labelledby": "h-i-act" }, h("h2", { id: "h-i-act" }, t("institution.activity")), activity)));
  await Promise.all([
    section(h("div"), () => api("GET", `/v1/institutions/${id}`), (inst) => {
      head.textContent = t("institution.title", { name: inst.name });
      ctx.setTitle(head.textContent);
    }),
    section(summary, () => api("GET", "/v1/applications/summary", { query: { institution_id: id } }), (s) => [
      h("p", {}, t("home.total", { n: formatNumber(s.total) })),
      details(STATUSES.filter((st) => s.by_status[st]).map((st) => [t(`status.${st}`), formatNumber(s.by_status[st])])),
    ]),
    section(officers, () => api("GET", `/v1/institutions/${id}/officers`), (list) => (list.length
      ? table(t("institution.officers"), [
        { label: t("institution.officers.col.name"), cell: (o) => o.full_name },
        { label: t("institution.officers.col.subject"), cell: (o) => o.subject },
        { label: t("institution.officers.col.email"), cell: (o) => o.email, class: "wide-only" },
      ], list)
      : empty(t("institution.officers.none")))),
    section(activity, () => api("GET", "/v1/batches", { query: { institution_id: id } }), (list) => (list.length
      ? table(t("institution.activity"), [
        { label: t("batches.col.created"), cell: (b) => link(`#/batches/${b.id}`, formatDateTime(b.created_at)) },
        { label: t("batches.col.by"), cell: (b) => b.created_by },
        { label: t("batches.col.size"), cell: (b) => String(b.size) },
      ], list.slice(0, 20))
      : empty(t("institution.activity.none")))),
  ]);
}
