// The parts of one application's page that only a renewal has: the e-approved request (the PAdES
// PDF the holder's card signed) with its validation report in plain words, the link to the
// application it renews, and the officer's "send the Renewal Form again".
import { api, apiBlob } from "../lib/api.js";
import { actionButton, badge, details, empty, h, link, saveFile, section } from "../lib/dom.js";
import { formatDate, formatDateTime, t } from "../lib/i18n.js";

const APPROVED = new Set(["e_approved", "filed", "at_ca", "rejected", "produced", "shipped", "delivery_failed",
  "delivered", "returned", "withdrawn"]);

function yesNo(ok, key) {
  return badge(ok ? "good" : "bad", t(`${key}.${ok ? "yes" : "no"}`));
}

/** The e-approval section: the report (GET …/e-approval) and the signed PDF (GET …/e-approval.pdf),
 * downloaded through the API as a file (nothing is embedded, so the page's CSP stays as it is). */
export function eApprovalSection(app) {
  const body = h("div", { id: "e-approval" });
  const box = h("section", { class: "card", "aria-labelledby": "h-eapproval" },
    h("h2", { id: "h-eapproval" }, t("eapproval.title")), body);
  if (!APPROVED.has(app.status)) {
    body.append(empty(t("eapproval.none")));
    return { el: box, load: async () => {} };
  }
  const load = () => section(body, () => api("GET", `/v1/applications/${app.id}/e-approval`), (report) => {
    const ok = report.intact && report.trusted && report.covers_whole_file && report.key_usage_ok;
    return [
      h("p", { class: `notice ${ok ? "good" : "bad"}`, id: "e-approval-verdict" },
        t(ok ? "eapproval.verdict.ok" : "eapproval.verdict.bad")),
      details([
        [t("eapproval.signer"), report.signer_subject],
        [t("eapproval.signerSerial"), report.signer_serial],
        [t("eapproval.signedAt"), formatDateTime(report.signed_at)],
        [t("eapproval.intact"), yesNo(report.intact, "eapproval.intact")],
        [t("eapproval.trusted"), yesNo(report.trusted, "eapproval.trusted")],
        [t("eapproval.covers"), yesNo(report.covers_whole_file, "eapproval.covers")],
        [t("eapproval.keyUsage"), yesNo(report.key_usage_ok, "eapproval.keyUsage")],
        [t("eapproval.chain"), h("ol", { class: "chain" }, report.chain.map((name) => h("li", {}, name)))],
        [t("eapproval.format"), report.pades_subfilter],
        [t("eapproval.digest"), h("code", { class: "digest" }, report.document_sha256)],
      ]),
      h("div", { class: "actions" }, actionButton(t("eapproval.pdf"), async () => {
        saveFile(await apiBlob(`/v1/applications/${app.id}/e-approval.pdf`), `nes-yenileme-e-onay-${app.id}.pdf`);
      }, { id: "download-e-approval", success: t("eapproval.pdf.ready") })),
    ];
  });
  return { el: box, load };
}

/** "Renews: <the first application>", a link for staff who want the old record. */
export function renewsLine(app) {
  if (!app.renews_application_id) return null;
  return h("p", {}, t("app.renewsLink"), ": ", link(`#/applications/${app.renews_application_id}`,
    app.renews_application_id.slice(0, 8)));
}

/** When the new certificate starts if the operator leaves the date empty: the old one's end. */
export async function renewalStartsAt(app) {
  if (!app.renews_application_id) return null;
  try {
    const old = await api("GET", `/v1/applications/${app.renews_application_id}`);
    return old.certificate ? old.certificate.not_after : null;
  } catch {
    return null; // only a hint: the API applies the default either way
  }
}

export function renewalHint(notAfter) {
  return notAfter ? t("app.produce.renewalHint", { date: formatDate(notAfter) }) : null;
}

export function officerRenewalActions(box, app) {
  if (app.status !== "filed") return;
  box.append(actionButton(t("app.renewal.resend"), () => api("POST", `/v1/renewals/${app.id}/renewal-form/resend`), {
    id: "resend-renewal-form", success: (sent) => t("renewals.resent", { at: formatDateTime(sent.link_expires_at) }),
  }));
}
