// Starts the vendored Swagger UI on the API's own OpenAPI document (no CDN, no inline
// script, so a strict Content-Security-Policy can stay on).
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
  });
});
