// Swagger UI over every contract document (the selector in its top bar), 002's first.
"use strict";
(function () {
  const config = JSON.parse(document.getElementById("roost-docs-config").textContent);
  window.ui = SwaggerUIBundle({
    dom_id: "#swagger-ui",
    urls: config.documents.map((doc) => ({ url: doc.url, name: doc.title })),
    "urls.primaryName": config.documents[0].title,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout",
    deepLinking: true,
    // the default validator badge asks validator.swagger.io about every document
    validatorUrl: null,
    // ?url= and ?configUrl= would let a link point this page at any other document
    queryConfigEnabled: false,
  });
})();
