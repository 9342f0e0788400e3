// One application: the person (TC Kimlik No and birth date masked by the API), the form, the
// invitation, the signed form, the certificate and shipment, expiry warnings and the audit trail.
// Officers re-send the invitation and record the signed form; operators download the printed
// form, reject with a reason, and record production. A renewal shows its e-approved request and
// validation report instead of the printed form (views/renewal-parts.js).
import { ApiError, api, apiBlob } from "../lib/api.js";
import {
  actionButton, announce, clear, details, empty, failed, field, h, link, loading, onSubmit, options, put, saveFile,
  section,
} from "../lib/dom.js";
import { formatDate, formatDateTime, t } from "../lib/i18n.js";
import { kindBadge, personName, shipmentBadge, statusBadge } from "./common.js";
import { eApprovalSection, officerRenewalActions, renewalHint, renewalStartsAt, renewsLine } from "./renewal-parts.js";

const REINVITABLE = new Set(["invited", "form_in_progress", "form_completed", "rejected"]);
const PRINTABLE = new Set(["form_completed", "signed_form_received", "forwarded", "rejected", "produced", "shipped",
  "delivery_failed", "delivered", "returned"]);

export async function render(main, ctx) {
  const [id] = ctx.params;
  main.append(loading());
  let app;
  try {
    app = await api("GET", `/v1/applications/${id}`);
  } catch (error) {
    if (ctx.stale()) return;
    clear(main);
    if (error instanceof ApiError && error.status === 401) return;
    ctx.setTitle(t("app.notVisible"));
    put(main, h("h1", {}, error.status === 404 ? t("app.notVisible") : t("error.load")),
      error.status === 404 ? null : failed(error, () => ctx.navigate(location.hash)),
      h("p", {}, link("#/applications", t("nav.applications"))));
    return;
  }
  if (ctx.stale()) return;
  clear(main);
  const officer = ctx.session.role === "institution_officer";
  const title = t("app.title", { name: personName(app) });
  ctx.setTitle(title);
  const reload = () => ctx.navigate(location.hash);

  const renewal = app.kind === "renewal";
  const actions = h("div", { class: "actions" });
  const eApproval = renewal ? eApprovalSection(app) : null;
  const warnings = h("div");
  const timeline = h("div");
  put(main,
    h("p", { class: "crumbs" }, link(officer ? "#/applications" : "#/queue", t("back"))),
    h("h1", {}, title),
    h("p", { class: "status-line" }, t("app.status"), ": ", statusBadge(app.status), " ", kindBadge(app.kind)),
    renewal ? renewsLine(app) : null,
    actions,
    eApproval ? eApproval.el : null,
    h("div", { class: "columns" },
      h("section", { "aria-labelledby": "h-person" }, h("h2", { id: "h-person" }, t("app.person")), details([
        [t("app.tckn"), app.person.tckn_masked],
        [t("field.first_name"), app.person.first_name],
        [t("field.last_name"), app.person.last_name],
        [t("app.birthDate"), app.person.birth_date_masked],
        [t("field.title"), app.person.title],
        [t("field.unit"), app.person.unit],
        [t("field.email"), app.person.email],
        [t("field.mobile"), app.person.mobile],
      ])),
      h("section", { "aria-labelledby": "h-form" }, h("h2", { id: "h-form" }, t("app.form")), formDetails(app.form))),
    h("div", { class: "columns" },
      h("section", { "aria-labelledby": "h-inv" }, h("h2", { id: "h-inv" }, t("app.invitation")), details([
        [t("app.invitation.state"), app.invitation.state ? t(`invstate.${app.invitation.state}`, {}, app.invitation.state)
          : t("none")],
        [t("app.invitation.expires"), formatDateTime(app.invitation.expires_at)],
        [t("app.invitation.times"), app.invitation.times_issued == null ? t("none") : String(app.invitation.times_issued)],
      ])),
      h("section", { "aria-labelledby": "h-signed" }, h("h2", { id: "h-signed" }, t("app.signedForm")),
        app.signed_form ? details([
          [t("field.channel"), t(`channel.${app.signed_form.channel}`, {}, app.signed_form.channel)],
          [t("field.received_on"), formatDate(app.signed_form.received_on)],
          [t("field.reference"), app.signed_form.reference || t("none")],
        ]) : empty(t("app.signedForm.none")),
        app.batch_id ? h("p", {}, t("app.batch"), ": ", link(`#/batches/${app.batch_id}`, t("batches.open"))) : null)),
    app.rejection_reason ? h("section", { "aria-labelledby": "h-rej" }, h("h2", { id: "h-rej" }, t("app.rejection")),
      h("p", { class: "notice bad" }, app.rejection_reason)) : null,
    h("div", { class: "columns" },
      h("section", { "aria-labelledby": "h-cert" }, h("h2", { id: "h-cert" }, t("app.certificate")),
        app.certificate ? details([
          [t("app.cert.serial"), app.certificate.serial],
          [t("app.cert.validity"), `${formatDate(app.certificate.not_before)} – ${formatDate(app.certificate.not_after)}`],
          [t("field.card_type"), app.certificate.card_type],
        ]) : empty(t("app.certificate.none"))),
      h("section", { "aria-labelledby": "h-ship" }, h("h2", { id: "h-ship" }, t("app.shipment")), shipmentOf(app, officer))),
    h("section", { "aria-labelledby": "h-warn" }, h("h2", { id: "h-warn" }, t("app.warnings")), warnings),
    h("section", { "aria-labelledby": "h-time" }, h("h2", { id: "h-time" }, t("app.timeline")), timeline),
  );

  if (officer && renewal) officerRenewalActions(actions, app);
  else if (officer) officerActions(actions, app, reload);
  else await operatorActions(actions, app, reload);
  if (ctx.stale()) return;

  await Promise.all([
    eApproval ? eApproval.load() : null,
    section(warnings, () => api("GET", `/v1/applications/${id}/expiry-warnings`), (list) => (list.length
      ? h("ul", { class: "plain" }, list.map((w) => h("li", {}, t("app.warnings.item", {
        days: w.days_before, at: formatDateTime(w.warned_at), until: formatDate(w.not_after),
      }))))
      : empty(t("app.warnings.none")))),
    section(timeline, () => api("GET", `/v1/applications/${id}/history`), (list) => (list.length
      ? h("ol", { class: "timeline" }, list.map((e) => h("li", {},
        h("time", { datetime: e.at }, formatDateTime(e.at)), " ",
        h("span", {}, t("app.timeline.item", { from: t(`status.${e.from_status}`, {}, e.from_status),
          to: t(`status.${e.to_status}`, {}, e.to_status) })),
        h("span", { class: "by" }, t("app.timeline.by", { role: t(`role.${e.actor_role}`, {}, e.actor_role),
          subject: e.actor_subject })),
        e.reason ? h("span", { class: "reason" }, e.reason) : null)))
      : empty())),
  ]);
}

function formDetails(form) {
  const keys = Object.keys(form || {});
  if (!keys.length) return empty(t("app.form.empty"));
  const value = (k, v) => {
    if (v === null || v === undefined || v === "") return t("none");
    if (typeof v === "boolean") return v ? t("yes") : t("no");
    if (k === "delivery_address" && typeof v === "object") {
      return [v.line1, v.line2, `${v.postal_code || ""} ${v.district || ""}`.trim(), v.city].filter(Boolean).join(", ");
    }
    if (k === "card_reader_type" || k === "prior_certificate_reason") return t(`choice.${v}`, {}, String(v));
    return typeof v === "object" ? JSON.stringify(v) : String(v);
  };
  const order = ["registry_number", "unit", "title", "institutional_email", "mobile", "delivery_address",
    "card_reader_type", "validity_years", "prior_certificate_reason", "prior_certificate_note", "publish_consent"];
  const shown = [...order.filter((k) => k in form), ...keys.filter((k) => !order.includes(k) && k !== "security_word_set")];
  return details(shown.map((k) => [t(`field.${k}`, {}, k), value(k, form[k])]));
}

function shipmentOf(app, officer) {
  const s = app.shipment;
  const known = s ? details([
    [t("app.shipment.tracking"), s.tracking_number],
    [t("app.shipment.carrier"), s.carrier],
    [t("app.shipment.lastEvent"), formatDateTime(s.last_event_at)],
  ]) : null;
  if (officer) return known || empty(t("app.shipment.none"));
  // Operators also see the tracking service's own record: its state, and a way to its carrier events.
  const box = h("div");
  section(box, () => api("GET", "/v1/shipments", { query: { application_id: app.id, limit: 5 } }), (page) => {
    if (!page.items.length) return known || empty(t("app.shipment.none"));
    return page.items.map((one) => [
      details([
        [t("app.shipment.status"), shipmentBadge(one.status)],
        [t("app.shipment.tracking"), one.tracking_number || t("shipments.unregistered")],
        [t("app.shipment.carrier"), one.carrier],
      ]),
      link(`#/shipments/${one.id}`, t("app.shipment.open")),
    ]);
  });
  return box;
}

function officerActions(box, app, reload) {
  if (REINVITABLE.has(app.status)) {
    box.append(actionButton(t("app.invitation.resend"), () => api("POST", `/v1/applications/${app.id}/invitation`),
      { id: "resend-invitation", success: t("app.invitation.resent") }));
  }
  if (app.status === "form_completed") {
    const channel = h("select", { required: true }, options(["paper", "email_pdf", "cargo_or_post"],
      (c) => t(`channel.${c}`), "paper"));
    const receivedOn = h("input", { type: "date", required: true, value: new Date().toISOString().slice(0, 10) });
    const reference = h("input", { type: "text", maxlength: "200" });
    const summary = h("p", { class: "form-error", role: "alert", hidden: true });
    const form = h("form", { class: "card", novalidate: true, id: "signed-form" },
      h("h2", {}, t("app.signedForm.record")),
      field("channel", t("field.channel"), channel),
      field("received_on", t("field.received_on"), receivedOn),
      field("reference", t("field.reference"), reference, { hint: t("field.reference.hint") }),
      summary,
      h("button", { type: "submit" }, t("app.signedForm.record")));
    onSubmit(form, summary, async () => {
      await api("POST", `/v1/applications/${app.id}/signed-form`, {
        body: { channel: channel.value, received_on: receivedOn.value || null, reference: reference.value.trim() || null },
      });
      announce(t("app.signedForm.recorded"), "good", { keep: true });
      reload();
    });
    box.append(form);
  }
}

async function operatorActions(box, app, reload) {
  const renewal = app.kind === "renewal";
  if (!renewal && PRINTABLE.has(app.status)) {
    box.append(actionButton(t("app.pdf"), async () => {
      saveFile(await apiBlob(`/v1/applications/${app.id}/form.pdf`), `nes-basvuru-${app.id}.pdf`);
    }, { id: "download-pdf", success: t("app.pdf.ready") }));
  }
  if (app.status !== (renewal ? "at_ca" : "forwarded")) return;
  // A renewal's new certificate starts, unless said otherwise, when the old one ends (docs/renewal.md).
  const startsHint = renewal ? renewalHint(await renewalStartsAt(app)) : null;

  const reason = h("textarea", { rows: "3", maxlength: "1000", required: true });
  const rejectSummary = h("p", { class: "form-error", role: "alert", hidden: true });
  const reject = h("form", { class: "card", novalidate: true, id: "reject-form" },
    h("h2", {}, t("app.reject")), field("reason", t("field.reason"), reason), rejectSummary,
    h("button", { type: "submit", class: "danger" }, t("app.reject.do")));
  onSubmit(reject, rejectSummary, async () => {
    await api("POST", `/v1/applications/${app.id}/rejection`, { body: { reason: reason.value.trim() } });
    announce(t("app.rejected"), "good", { keep: true });
    reload();
  });

  const serial = h("input", { type: "text", maxlength: "64", autocomplete: "off", spellcheck: "false" });
  const notBefore = h("input", { type: "date" });
  const notAfter = h("input", { type: "date" });
  const cardType = h("input", { type: "text", maxlength: "40", value: "AKIS" });
  const produceSummary = h("p", { class: "form-error", role: "alert", hidden: true });
  const produce = h("form", { class: "card", novalidate: true, id: "production-form" },
    h("h2", {}, t("app.produce")),
    renewal ? h("p", { class: "hint" }, t("app.produce.renewalNote")) : null,
    field("certificate_serial", t("field.certificate_serial"), serial, { hint: "7F:01:AA" }),
    field("not_before", t("field.not_before"), notBefore, { hint: startsHint }),
    field("not_after", t("field.not_after"), notAfter),
    field("card_type", t("field.card_type"), cardType),
    produceSummary,
    h("button", { type: "submit" }, t("app.produce.do")));
  // A date picked here is the start of that day in Turkey (the API wants a time zone).
  const istanbul = (d) => (d ? `${d}T00:00:00+03:00` : null);
  onSubmit(produce, produceSummary, async () => {
    await api("POST", `/v1/applications/${app.id}/production`, {
      body: { certificate_serial: serial.value.trim(), not_before: istanbul(notBefore.value),
        not_after: istanbul(notAfter.value), card_type: cardType.value.trim() },
    });
    announce(t("app.produced"), "good", { keep: true });
    reload();
  }, { fieldOf: { serial_reused: "certificate_serial" } });
  box.append(h("div", { class: "columns" }, reject, produce));
}
