// Starts Swagger UI on /docs with the settings the page carries as JSON (no inline script).
"use strict";
window.addEventListener("load", function () {
  var parameters = JSON.parse(document.getElementById("swagger-ui-parameters").textContent);
  parameters.presets = [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset];
  parameters.layout = "BaseLayout";
  window.ui = SwaggerUIBundle(parameters);
});
