// The staff console's entry point: who is signed in, the menu of their role, and the screen the
// address's hash names (#/applications/<id>). Hash routing keeps the server side to one file.
import { forgetSession, loadSession, signOut, whenSignedOut } from "./lib/api.js";
import { announce, clear, clearAnnouncement, h, put } from "./lib/dom.js";
import { currentLang, setLang, t } from "./lib/i18n.js";
import * as applications from "./views/applications.js";
import * as application from "./views/application.js";
import * as batches from "./views/batches.js";
import * as deadLetters from "./views/dead-letters.js";
import * as deliveries from "./views/deliveries.js";
import * as home from "./views/home.js";
import * as institutions from "./views/institutions.js";
import * as renewals from "./views/renewals.js";
import * as roster from "./views/roster.js";
import * as shipments from "./views/shipments.js";
import * as templates from "./views/templates.js";

const OFFICER = "institution_officer";
const OPERATOR = "ca_operator";

// [pattern, roles, render, menu key (for the menu and its current item)]
const ROUTES = [
  [/^\/$/, [OFFICER], home.render, "nav.home"],
  [/^\/roster$/, [OFFICER], roster.render, "nav.roster"],
  [/^\/queue$/, [OPERATOR], applications.renderQueue, "nav.queue"],
  [/^\/applications$/, [OFFICER, OPERATOR], applications.render, "nav.applications"],
  [/^\/applications\/([0-9a-f-]{36})$/, [OFFICER, OPERATOR], application.render, "nav.applications"],
  [/^\/renewals$/, [OFFICER], renewals.render, "nav.renewals"],
  [/^\/batches$/, [OFFICER, OPERATOR], batches.renderList, "nav.batches"],
  [/^\/batches\/([0-9a-f-]{36})$/, [OFFICER, OPERATOR], batches.renderOne, "nav.batches"],
  [/^\/deliveries$/, [OFFICER, OPERATOR], deliveries.render, "nav.deliveries"],
  [/^\/institutions$/, [OPERATOR], institutions.renderList, "nav.institutions"],
  [/^\/institutions\/([0-9a-f-]{36})$/, [OPERATOR], institutions.renderOne, "nav.institutions"],
  [/^\/shipments$/, [OPERATOR], shipments.renderList, "nav.shipments"],
  [/^\/shipments\/([0-9a-f-]{36})$/, [OPERATOR], shipments.renderOne, "nav.shipments"],
  [/^\/templates$/, [OPERATOR], templates.render, "nav.templates"],
  [/^\/dead-letters$/, [OPERATOR], deadLetters.render, "nav.deadLetters"],
];

const MENU = {
  [OFFICER]: [["#/", "nav.home"], ["#/roster", "nav.roster"], ["#/applications", "nav.applications"],
    ["#/renewals", "nav.renewals"], ["#/batches", "nav.batches"], ["#/deliveries", "nav.deliveries"]],
  [OPERATOR]: [["#/queue", "nav.queue"], ["#/applications", "nav.applications"], ["#/institutions",
    "nav.institutions"], ["#/shipments", "nav.shipments"], ["#/deliveries", "nav.deliveries"],
  ["#/templates", "nav.templates"], ["#/dead-letters", "nav.deadLetters"]],
};

let session = null;
let rendering = 0;

function goToSignIn() {
  const next = location.pathname + location.hash;
  location.assign(`/auth/login?next=${encodeURIComponent(next)}`);
}

/** The session is over (expired, or signed out elsewhere): drop everything shown and held. */
function endConsole() {
  if (session === null) return;
  session = null;
  forgetSession();
  clear(document.getElementById("main"));
  clear(document.getElementById("menu"));
  clear(document.getElementById("who"));
  document.getElementById("sign-out").hidden = true;
  announce(t("sessionExpired"), "error");
  goToSignIn();
}

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, search = ""] = raw.split("?");
  return { path, query: new URLSearchParams(search) };
}

function renderShell() {
  document.documentElement.lang = currentLang();
  document.getElementById("brand").textContent = t("app.name");
  document.getElementById("skip").textContent = t("app.skip");
  const lang = document.getElementById("lang");
  lang.textContent = t("lang.switch");
  lang.setAttribute("lang", currentLang() === "tr" ? "en" : "tr");
  lang.setAttribute("aria-label", t("lang.switch.label"));
  const menu = document.getElementById("menu");
  menu.setAttribute("aria-label", t("nav.label"));
  clear(menu);
  if (!session) return;
  const who = document.getElementById("who");
  put(clear(who), h("span", {}, t("signedInAs", { name: session.name || session.subject, role: t(`role.${session.role}`) })),
    session.institution_name ? h("span", { class: "who-inst" }, session.institution_name) : null);
  const signOutButton = document.getElementById("sign-out");
  signOutButton.textContent = t("signOut");
  signOutButton.hidden = false;
  const { path } = parseHash();
  const current = ROUTES.find(([re]) => re.test(path));
  menu.append(h("ul", {}, MENU[session.role].map(([href, key]) => h("li", {},
    h("a", { href, "aria-current": current && current[3] === key ? "page" : null }, t(key))))));
}

async function route() {
  const ticket = ++rendering;
  clearAnnouncement();
  renderShell();
  const main = document.getElementById("main");
  const { path, query } = parseHash();
  if (path === "/" && session.role === OPERATOR) {
    location.replace("#/queue");
    return;
  }
  const match = ROUTES.map(([re, roles, render]) => [path.match(re), roles, render]).find(([m]) => m);
  clear(main);
  if (!match || !match[1].includes(session.role)) {
    main.append(h("h1", { tabindex: "-1" }, t("error.unknownRoute")), h("p", {}, h("a", { href: "#/" }, t("nav.home"))));
    document.title = `${t("error.unknownRoute")} · ${t("app.name")}`;
    main.querySelector("h1").focus();
    return;
  }
  const [m, , render] = match;
  const ctx = {
    session,
    query,
    params: m.slice(1),
    stale: () => ticket !== rendering, // a newer navigation started: do not draw over it
    setTitle(text) {
      document.title = `${text} · ${t("app.name")}`;
    },
    navigate(hash) {
      if (location.hash === hash) route();
      else location.hash = hash;
    },
  };
  await render(main, ctx);
  const heading = main.querySelector("h1");
  if (heading && !ctx.stale()) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: false });
  }
}

async function start() {
  whenSignedOut(endConsole);
  document.getElementById("lang").addEventListener("click", () => {
    setLang(currentLang() === "tr" ? "en" : "tr");
    route();
  });
  document.getElementById("skip").addEventListener("click", (e) => {
    e.preventDefault();
    document.getElementById("main").focus();
  });
  document.getElementById("sign-out").addEventListener("click", async () => {
    const next = await signOut();
    session = null;
    clear(document.getElementById("main"));
    location.assign(next);
  });
  try {
    session = await loadSession();
  } catch {
    renderShell();
    clear(document.getElementById("main")).append(h("p", { class: "state error", role: "alert" }, t("error.network")));
    return;
  }
  if (!session) {
    goToSignIn();
    return;
  }
  window.addEventListener("hashchange", route);
  await route();
}

start();
