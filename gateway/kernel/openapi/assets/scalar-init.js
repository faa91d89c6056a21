// Scalar over every contract document (its own document selector), 002's first. Everything that
// would reach Scalar's services is off: fonts (the system's instead), telemetry, the AI agent
// (on by default for localhost), MCP, and the developer tools.
"use strict";
(function () {
  const config = JSON.parse(document.getElementById("roost-docs-config").textContent);
  const offline = {
    withDefaultFonts: false,
    telemetry: false,
    agent: { disabled: true },
    mcp: { disabled: true },
    showDeveloperTools: "never",
    persistAuth: false,
  };
  Scalar.createApiReference("#app", {
    ...offline,
    sources: config.documents.map((doc, i) => ({
      ...offline,
      title: doc.title,
      slug: doc.key,
      url: doc.url,
      default: i === 0,
    })),
  });
})();
