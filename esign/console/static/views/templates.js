// Message templates: preview any of them with sample data, in either language (nothing is sent).
import { api } from "../lib/api.js";
import { clear, details, field, h, options, section } from "../lib/dom.js";
import { t } from "../lib/i18n.js";

export async function render(main, ctx) {
  ctx.setTitle(t("templates.title"));
  const body = h("div");
  main.append(h("h1", {}, t("templates.title")), h("p", { class: "intro" }, t("templates.note")), body);
  await section(body, () => api("GET", "/v1/templates"), (list) => {
    const byName = new Map(list.map((x) => [x.name, x]));
    const template = h("select", {}, options(list.map((x) => x.name), (n) => t(`tpl.${n}`, {}, n), list[0] && list[0].name));
    const channel = h("select");
    const locale = h("select", {}, options(["tr", "en"], (l) => (l === "tr" ? "Türkçe" : "English"), "tr"));
    const fillChannels = () => {
      const spec = byName.get(template.value);
      clear(channel).append(...options(spec ? spec.channels : [], (c) => t(`channel.${c}`, {}, c), channel.value));
    };
    template.addEventListener("change", fillChannels);
    fillChannels();
    const preview = h("div", { class: "preview", "aria-live": "polite" });
    const form = h("form", { class: "filters" },
      field("template", t("templates.template"), template),
      field("channel", t("templates.channel"), channel),
      field("locale", t("templates.locale"), locale),
      h("div", { class: "filter-actions" }, h("button", { type: "submit" }, t("templates.preview"))));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      await section(preview, () => api("GET", `/v1/templates/${encodeURIComponent(template.value)}/preview`, {
        query: { channel: channel.value, locale: locale.value },
      }), (p) => (p.email
        ? [details([[t("templates.subject"), p.email.subject]]),
          h("h2", {}, t("templates.text")), h("pre", { class: "message", lang: p.locale }, p.email.text)]
        : [h("p", {}, t("templates.sms", p.sms)), h("pre", { class: "message", lang: p.locale }, p.sms.text)]));
    });
    return [form, preview];
  });
}
