// Small DOM helpers shared by every screen. Text goes in with textContent only (never innerHTML),
// so nothing the APIs return can become markup.
import { ApiError } from "./api.js";
import { formatNumber, has, t } from "./i18n.js";

/** h("p", {class: "x", onclick: fn, "aria-live": "polite"}, "text", child, [more]) */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  append(el, children);
  return el;
}

/** Like el.append(...), but skips null/false (the native one would write "null"). */
export function put(el, ...children) {
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

let keepOnce = false;

/** Says `text` in the live region screen readers follow (and shows it). With `keep`, it stays
 * through the next screen change (an action that leads to another screen, or reloads this one). */
export function announce(text, kind = "info", { keep = false } = {}) {
  const region = document.getElementById("announce");
  keepOnce = keep;
  region.className = `announce ${kind}`;
  region.textContent = "";
  // A fresh text node each time, so the same message twice is read twice.
  requestAnimationFrame(() => {
    region.textContent = text;
  });
}

/** On a new screen the last screen's message goes, unless it was said with `keep`. */
export function clearAnnouncement() {
  if (keepOnce) {
    keepOnce = false;
    return;
  }
  const region = document.getElementById("announce");
  region.textContent = "";
  region.className = "announce";
}

export function loading() {
  return h("p", { class: "state loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }),
    t("loading"));
}

export function empty(text = t("empty")) {
  return h("p", { class: "state empty" }, text);
}

/** A problem as one sentence in the user's language: the code's translation, else the API's words. */
export function problemText(error) {
  if (!(error instanceof ApiError)) return t("error.network");
  if (error.status === 0) return t("error.network");
  return t(`problem.${error.code}`, {}, error.problem.detail || error.problem.title || t("error.load"));
}

/** A field error in words: the field's own text for that code if there is one (a generic code such
 * as `value_error` says little), else the code's, else the API's message. */
export function fieldErrorText(fieldError) {
  const name = String(fieldError.field || "").split(".").pop();
  const specific = `ferr.${name}.${fieldError.code}`;
  return has(specific) ? t(specific) : t(`ferr.${fieldError.code}`, {}, fieldError.message);
}

export function fieldLabel(name) {
  return has(`field.${name}`) ? t(`field.${name}`) : name;
}

/** An error state with a retry button; `retry` re-runs the loader. */
export function failed(error, retry) {
  return h("div", { class: "state error", role: "alert" },
    h("p", {}, problemText(error)),
    retry ? h("button", { type: "button", class: "secondary", onclick: retry }, t("retry")) : null);
}

/** Renders `load()`'s result into `container` with loading / error / empty states. */
export async function section(container, load, render) {
  const run = async () => {
    clear(container).append(loading());
    container.setAttribute("aria-busy", "true");
    try {
      const data = await load();
      clear(container);
      const out = render(data);
      if (out) append(container, [out]);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return;
      clear(container).append(failed(error, run));
    } finally {
      container.removeAttribute("aria-busy");
    }
  };
  await run();
}

/** A table: columns [{label, cell: (row) => node|text, class?}] */
export function table(caption, columns, rows, { rowClass, showCaption = false } = {}) {
  return h("div", { class: showCaption ? "table-wrap captioned" : "table-wrap", tabindex: "0", role: "region",
    "aria-label": caption },
    h("table", {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.class }, c.label)))),
      h("tbody", {}, rows.map((row) => h("tr", { class: rowClass ? rowClass(row) : null },
        columns.map((c, i) => (i === 0 && c.header !== false
          ? h("th", { scope: "row", class: c.class, "data-label": c.label }, c.cell(row))
          : h("td", { class: c.class, "data-label": c.label }, c.cell(row)))))))));
}

/** Term/description list from [label, value] pairs (null values are skipped). */
export function details(pairs) {
  return h("dl", { class: "details" },
    pairs.filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

export function link(href, text, props = {}) {
  return h("a", { href, ...props }, text);
}

export function badge(kind, text) {
  return h("span", { class: `badge badge-${kind}` }, text);
}

/** Previous/next paging for a {total, limit, offset} page; `go(offset)` changes the page. */
export function pager(page, go) {
  if (page.total <= page.limit && page.offset === 0) {
    return h("p", { class: "pager-range" }, t("page.range", {
      from: page.total ? 1 : 0, to: page.total, total: formatNumber(page.total),
    }));
  }
  const from = page.total ? page.offset + 1 : 0;
  const to = Math.min(page.offset + page.limit, page.total);
  return h("nav", { class: "pager", "aria-label": t("page.label") },
    h("button", { type: "button", class: "secondary", disabled: page.offset === 0,
      onclick: () => go(Math.max(0, page.offset - page.limit)) }, t("page.prev")),
    h("span", { class: "pager-range" }, t("page.range", {
      from: formatNumber(from), to: formatNumber(to), total: formatNumber(page.total),
    })),
    h("button", { type: "button", class: "secondary", disabled: to >= page.total,
      onclick: () => go(page.offset + page.limit) }, t("page.next")));
}

/** A labelled form control with a hint and an error slot bound by aria-describedby. */
export function field(name, label, control, { hint } = {}) {
  const id = `f-${name}`;
  control.id = id;
  control.name = name;
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  control.setAttribute("aria-describedby", [hintId, errorId].filter(Boolean).join(" "));
  return h("div", { class: "field", "data-field": name },
    h("label", { for: id }, label),
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    control,
    h("p", { class: "field-error", id: errorId }));
}

/** Puts each problem field error next to its field in `form`; the rest go to `summary`. */
export function showFieldErrors(form, error, summary) {
  clearFieldErrors(form);
  const rest = [];
  for (const fe of error.errors || []) {
    const name = String(fe.field).split(".")[0];
    const slot = form.querySelector(`[data-field="${CSS.escape(name)}"] .field-error`);
    if (slot) {
      slot.textContent = fieldErrorText(fe);
      const control = form.querySelector(`[name="${CSS.escape(name)}"]`);
      if (control) control.setAttribute("aria-invalid", "true");
    } else rest.push(`${fieldLabel(name)}: ${fieldErrorText(fe)}`);
  }
  if (summary) {
    summary.textContent = [problemText(error), ...rest].join(" ");
    summary.hidden = false;
  }
  const first = form.querySelector("[aria-invalid=true]");
  if (first) first.focus();
}

export function clearFieldErrors(form) {
  for (const slot of form.querySelectorAll(".field-error")) slot.textContent = "";
  for (const c of form.querySelectorAll("[aria-invalid]")) c.removeAttribute("aria-invalid");
  const summary = form.querySelector(".form-error");
  if (summary) {
    summary.textContent = "";
    summary.hidden = true;
  }
}

/** Hands the browser a file to save (a Blob made here or fetched from the API). */
export function saveFile(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function options(values, labelOf, selected, { allLabel } = {}) {
  const list = allLabel !== undefined ? [h("option", { value: "" }, allLabel)] : [];
  for (const v of values) list.push(h("option", { value: v, selected: v === selected }, labelOf(v)));
  return list;
}

/** A button that runs `action` once at a time and announces its outcome (or the problem).
 * `success` is the text to say, or a function of the action's result that gives it. */
export function actionButton(label, action, { id, success, small = false, after, ariaLabel } = {}) {
  const button = h("button", { type: "button", id, class: small ? "secondary small" : "secondary",
    "aria-label": ariaLabel }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const result = await action();
      if (after) await after();
      // Said after the refresh, so the refreshed screen's own announcement (a list's count) does
      // not talk over it.
      const said = typeof success === "function" ? success(result) : success;
      if (said) announce(said, "good");
    } catch (error) {
      announce(problemText(error), "error");
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

/** Submits `form` through `action` once at a time (its submit button is disabled meanwhile); a
 * refusal puts each field's error next to its field and the rest in `summary`. `fieldOf` names the
 * field a problem without field errors is about (e.g. `serial_reused` → the serial), so it shows
 * there too. */
export function onSubmit(form, summary, action, { fieldOf = {} } = {}) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFieldErrors(form);
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    try {
      await action();
    } catch (error) {
      if (error instanceof ApiError && fieldOf[error.code] && !error.errors.length) {
        error.errors = [{ field: fieldOf[error.code], code: error.code, message: problemText(error) }];
      }
      showFieldErrors(form, error, summary);
    } finally {
      if (button) button.disabled = false;
    }
  });
}
