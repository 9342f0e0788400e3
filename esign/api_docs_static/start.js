// Starts Swagger UI on this service's OpenAPI document, found relative to the page, so the page
// works on the service's own port (/docs) and through the one origin (/docs/<service>/).
window.ui = SwaggerUIBundle({
  url: new URL("openapi.json", document.baseURI).href,
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: false,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
