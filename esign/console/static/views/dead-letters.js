// Dead letters of every service: events a consumer gave up on. Each service serves its own at
// /v1/dead-letters/<service>, a staff route of the one origin (locally and in the Ingress).
import { api } from "../lib/api.js";
import { actionButton, empty, h, section, table } from "../lib/dom.js";
import { formatDateTime, t } from "../lib/i18n.js";

const SERVICES = ["applications", "notifications", "tracking"];

export async function render(main, ctx) {
  ctx.setTitle(t("dead.title"));
  main.append(h("h1", {}, t("dead.title")), h("p", { class: "intro" }, t("dead.intro")));
  await Promise.all(SERVICES.map((service) => {
    const box = h("div");
    main.append(h("section", { "aria-labelledby": `h-dl-${service}` },
      h("h2", { id: `h-dl-${service}` }, t(`dead.service.${service}`)), box));
    const base = `/v1/dead-letters/${service}`;
    const load = () => api("GET", base);
    const draw = (list) => {
      if (!list.length) return empty(t("dead.none"));
      return table(t(`dead.service.${service}`), [
        { label: t("dead.col.created"), cell: (d) => formatDateTime(d.created_at) },
        { label: t("dead.col.consumer"), cell: (d) => d.consumer },
        { label: t("dead.col.subject"), cell: (d) => d.subject },
        { label: t("dead.col.error"), cell: (d) => d.error, class: "wide-only" },
        { label: t("dead.col.deliveries"), cell: (d) => String(d.deliveries), class: "wide-only" },
        { label: t("deliveries.col.action"), cell: (d) => actionButton(t("dead.replay"),
          () => api("POST", `${base}/${d.id}/replay`),
          { small: true, success: t("dead.replayed"), after: () => section(box, load, draw) }) },
      ], list);
    };
    return section(box, load, draw);
  }));
}
