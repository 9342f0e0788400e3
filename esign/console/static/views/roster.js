// Staff-list upload: drag and drop or pick a CSV/JSON file, watch it upload and import; a file
// with errors shows every row's errors (line, field, why) and stores nothing.
import { upload } from "../lib/api.js";
import { announce, clear, fieldErrorText, fieldLabel, h, problemText, table } from "../lib/dom.js";
import { formatNumber, t } from "../lib/i18n.js";

function sizeText(bytes) {
  return bytes < 1024 ? `${bytes} B` : `${formatNumber(Math.round(bytes / 1024))} KB`;
}

/** `rows.<line>.<column>` → {line, field}; anything else is a whole-file error (line 0). */
function rowError(fe) {
  const m = /^rows\.(\d+)\.(.+)$/.exec(fe.field);
  return m ? { line: Number(m[1]), field: m[2], fe } : { line: 0, field: fe.field, fe };
}

export async function render(main, ctx) {
  ctx.setTitle(t("roster.title"));
  let chosen = null;
  const input = h("input", { type: "file", id: "roster-file", accept: ".csv,.json,text/csv,application/json",
    class: "visually-hidden" });
  const chosenText = h("p", { class: "chosen", id: "roster-chosen" });
  const progress = h("progress", { max: "100", value: "0", hidden: true, id: "roster-progress",
    "aria-label": t("roster.upload") });
  const progressText = h("p", { class: "progress-text", hidden: true });
  const result = h("div", { id: "roster-result" });
  const submit = h("button", { type: "submit", id: "roster-upload" }, t("roster.upload"));

  const choose = (file) => {
    chosen = file || null;
    chosenText.textContent = chosen ? t("roster.chosen", { name: chosen.name, size: sizeText(chosen.size) }) : "";
    clear(result);
  };
  input.addEventListener("change", () => choose(input.files[0]));
  const zone = h("div", { class: "dropzone" },
    h("p", { class: "dropzone-text" }, t("roster.drop")),
    h("label", { for: "roster-file", class: "button secondary" }, t("roster.pick")),
    input);
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (e) => {
      e.preventDefault();
      zone.classList.add("dragging");
    });
  }
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("dragging");
    if (e.dataTransfer.files.length) choose(e.dataTransfer.files[0]);
  });

  const form = h("form", { novalidate: true, class: "roster-form" }, zone, chosenText, submit, progress, progressText);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clear(result);
    if (!chosen) {
      announce(t("roster.noFile"), "error");
      return;
    }
    submit.disabled = true;
    progress.hidden = false;
    progressText.hidden = false;
    progress.value = 0;
    progressText.textContent = t("roster.uploading", { pct: 0 });
    try {
      const body = await upload(`/v1/institutions/${ctx.session.institution_id}/roster`, chosen, (p) => {
        if (p.done) {
          progress.removeAttribute("value"); // indeterminate while the server imports
          progressText.textContent = t("roster.importing");
        } else {
          const pct = Math.round((100 * p.sent) / p.total);
          progress.value = pct;
          progressText.textContent = t("roster.uploading", { pct });
        }
      });
      const text = t("roster.ok", { created: formatNumber(body.created), known: formatNumber(body.already_known) });
      result.append(h("div", { class: "notice good" }, h("p", {}, text),
        body.already_known_lines.length ? h("p", {}, t("roster.okLines", { lines: body.already_known_lines.join(", ") }))
          : null));
      announce(text, "good");
      input.value = "";
      chosen = null;
      chosenText.textContent = "";
    } catch (error) {
      showErrors(result, error);
    } finally {
      submit.disabled = false;
      progress.hidden = true;
      progressText.hidden = true;
    }
  });

  main.append(h("h1", {}, t("roster.title")), h("p", { class: "intro" }, t("roster.intro")), form, result);
}

function showErrors(result, error) {
  const rows = (error.errors || []).map(rowError).sort((a, b) => a.line - b.line);
  if (error.code === "roster_invalid" && rows.length) {
    const headline = t("roster.errors", { n: formatNumber(rows.length) });
    result.append(h("div", { class: "notice bad", role: "alert" }, h("p", {}, headline)),
      table(t("roster.errors.caption"), [
        { label: t("roster.col.line"), cell: (r) => (r.line ? String(r.line) : t("none")) },
        { label: t("roster.col.field"), cell: (r) => fieldLabel(r.field) },
        { label: t("roster.col.why"), cell: (r) => fieldErrorText(r.fe) },
      ], rows, { showCaption: true }));
    announce(headline, "error");
    return;
  }
  const extra = error.problem && error.problem.missing_columns
    ? ` ${error.problem.missing_columns.map(fieldLabel).join(", ")}` : "";
  const text = problemText(error) + extra;
  result.append(h("div", { class: "notice bad", role: "alert" }, h("p", {}, text)));
  announce(text, "error");
}
