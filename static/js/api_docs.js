(function () {
  "use strict";
  const el = document.getElementById("swagger-ui");
  const csrf = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
  window.SwaggerUIBundle({
    url: el.dataset.schemaUrl,
    domNode: el,
    deepLinking: true,
    requestInterceptor: (req) => {
      if (csrf) { req.headers["X-CSRFToken"] = csrf.split("=")[1]; }
      return req;
    },
  });
})();
