// The officer's home: the institution's funnel, who has not filled the form, certificates that
// expire soon and whether their holders were warned, and the renewals waiting for the officer.
import { api } from "../lib/api.js";
import { empty, h, link, section } from "../lib/dom.js";
import { formatDate, formatDateTime, formatNumber, t } from "../lib/i18n.js";
import { STATUSES, personName, statusBadge } from "./common.js";

export async function render(main, ctx) {
  ctx.setTitle(t("home.title"));
  const funnel = h("div");
  const notFilled = h("div");
  const expiring = h("div");
  const renewals = h("div");
  main.append(
    h("h1", {}, t("home.title")),
    h("section", { "aria-labelledby": "h-funnel" }, h("h2", { id: "h-funnel" }, t("home.funnel")), funnel),
    h("div", { class: "columns" },
      h("section", { "aria-labelledby": "h-notfilled" }, h("h2", { id: "h-notfilled" }, t("home.notFilled")), notFilled),
      h("section", { "aria-labelledby": "h-expiring" }, h("h2", { id: "h-expiring" }, t("home.expiring")), expiring)),
    h("section", { "aria-labelledby": "h-renewals" }, h("h2", { id: "h-renewals" }, t("home.renewals")), renewals));

  await Promise.all([
    section(funnel, () => api("GET", "/v1/applications/summary"), (summary) => {
      if (summary.total === 0) return h("p", { class: "state empty" }, t("home.start"), " ", link("#/roster", t("nav.roster")));
      return [
        h("p", {}, t("home.total", { n: formatNumber(summary.total) })),
        h("ul", { class: "funnel" }, STATUSES.map((s) => h("li", { class: summary.by_status[s] ? "" : "zero" },
          h("a", { href: `#/applications?status=${s}` },
            h("span", { class: "funnel-count" }, formatNumber(summary.by_status[s])),
            h("span", { class: "funnel-label" }, t(`status.${s}`)))))),
      ];
    }),
    section(notFilled, () => api("GET", "/v1/applications", { query: { form_not_filled: "true", limit: 8 } }), (page) => {
      if (page.total === 0) return empty();
      return [
        h("p", {}, t("home.notFilled.count", { n: formatNumber(page.total) })),
        h("ul", { class: "plain" }, page.items.map((a) => h("li", {},
          link(`#/applications/${a.id}`, personName(a)), " ", statusBadge(a.status)))),
        link("#/applications?form_not_filled=1", t("home.notFilled.all")),
      ];
    }),
    section(renewals, loadRenewalCounts, ({ toFile, formPending }) => [
      h("ul", { class: "funnel" }, [["e_approved", "home.renewals.toFile", toFile],
        ["filed", "home.renewals.formPending", formPending]].map(([status, key, n]) => h("li", { class: n ? "" : "zero" },
        h("a", { href: `#/renewals?status=${status}`, id: `renewals-${status}` },
          h("span", { class: "funnel-count" }, formatNumber(n)),
          h("span", { class: "funnel-label" }, t(key)))))),
    ]),
    section(expiring, loadExpiring, (rows) => {
      if (rows.length === 0) return empty(t("home.expiring.empty"));
      return h("ul", { class: "plain" }, rows.map(({ app, warnings }) => {
        const last = warnings[warnings.length - 1];
        return h("li", {},
          link(`#/applications/${app.id}`, personName(app)), " · ",
          formatDate(app.certificate && app.certificate.not_after), " · ",
          last
            ? h("span", { class: "ok" }, t("home.expiring.warned", { days: last.days_before, at: formatDateTime(last.warned_at) }))
            : h("span", { class: "warn" }, t("home.expiring.notWarned")));
      }));
    }),
  ]);
}

async function loadExpiring() {
  const page = await api("GET", "/v1/applications", { query: { expires_within_days: 90, limit: 10 } });
  return Promise.all(page.items.map(async (app) => ({
    app, warnings: await api("GET", `/v1/applications/${app.id}/expiry-warnings`),
  })));
}

/** How many renewals wait for the officer: e-approved (to file) and filed (Renewal Form not yet
 * approved). Only the totals are needed, so one row a page. */
async function loadRenewalCounts() {
  const count = (status) => api("GET", "/v1/renewals", { query: { status, limit: 1 } }).then((page) => page.total);
  const [toFile, formPending] = await Promise.all([count("e_approved"), count("filed")]);
  return { toFile, formPending };
}
