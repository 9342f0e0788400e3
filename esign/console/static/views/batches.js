// Forwarded batches and one batch's manifest (masked TC Kimlik No), downloadable as JSON or CSV.
import { api } from "../lib/api.js";
import { empty, h, link, saveFile, section, table } from "../lib/dom.js";
import { formatDate, formatDateTime, t } from "../lib/i18n.js";
import { statusBadge } from "./common.js";

export async function renderList(main, ctx) {
  ctx.setTitle(t("batches.title"));
  const list = h("div");
  main.append(h("h1", {}, t("batches.title")), list);
  await section(list, () => api("GET", "/v1/batches"), (batches) => (batches.length
    ? table(t("batches.caption"), [
      { label: t("batches.col.created"), cell: (b) => link(`#/batches/${b.id}`, formatDateTime(b.created_at)) },
      { label: t("batches.col.size"), cell: (b) => String(b.size) },
      { label: t("batches.col.by"), cell: (b) => b.created_by },
      { label: t("batches.col.note"), cell: (b) => b.note || t("none"), class: "wide-only" },
    ], batches)
    : empty()));
}

function csvCell(value) {
  const s = value === null || value === undefined ? "" : String(value);
  return /[";\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function manifestCsv(manifest) {
  const header = ["application_id", "tckn_masked", "first_name", "last_name", "status", "signed_form_channel",
    "signed_form_received_on", "signed_form_reference"];
  const lines = manifest.entries.map((e) => [e.application_id, e.tckn_masked, e.first_name, e.last_name, e.status,
    e.signed_form && e.signed_form.channel, e.signed_form && e.signed_form.received_on,
    e.signed_form && e.signed_form.reference].map(csvCell).join(";"));
  // A byte-order mark so spreadsheet programs read the Turkish letters as UTF-8.
  return new Blob(["\ufeff", [header.join(";"), ...lines].join("\r\n"), "\r\n"], { type: "text/csv;charset=utf-8" });
}

export async function renderOne(main, ctx) {
  const [id] = ctx.params;
  ctx.setTitle(t("batch.title"));
  const body = h("div");
  main.append(h("p", { class: "crumbs" }, link("#/batches", t("back"))), h("h1", {}, t("batch.title")), body);
  await section(body, () => api("GET", `/v1/batches/${id}`), (manifest) => {
    const stamp = manifest.batch.created_at.slice(0, 10);
    return [
      h("p", {}, `${formatDateTime(manifest.batch.created_at)} · ${manifest.batch.created_by} · ${manifest.batch.size}`),
      manifest.batch.note ? h("p", { class: "note" }, manifest.batch.note) : null,
      h("div", { class: "actions" },
        h("button", { type: "button", id: "manifest-json", class: "secondary", onclick: () => saveFile(
          new Blob([JSON.stringify(manifest, null, 2)], { type: "application/json" }),
          `manifest-${stamp}-${id.slice(0, 8)}.json`) }, t("download.json")),
        h("button", { type: "button", id: "manifest-csv", class: "secondary", onclick: () => saveFile(
          manifestCsv(manifest), `manifest-${stamp}-${id.slice(0, 8)}.csv`) }, t("download.csv"))),
      table(t("batch.caption"), [
        { label: t("batch.col.name"), cell: (e) => link(`#/applications/${e.application_id}`, `${e.first_name} ${e.last_name}`) },
        { label: t("batch.col.tckn"), cell: (e) => e.tckn_masked },
        { label: t("batch.col.status"), cell: (e) => statusBadge(e.status) },
        { label: t("batch.col.signed"), cell: (e) => (e.signed_form
          ? `${t(`channel.${e.signed_form.channel}`, {}, e.signed_form.channel)}, ${formatDate(e.signed_form.received_on)}`
          : t("none")) },
      ], manifest.entries),
    ];
  });
}
