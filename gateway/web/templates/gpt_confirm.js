{# Confirms the connection through the GPT bridge (/api/gpt-auth/*) with the page's signed connect session. #}
(function () {
  "use strict";
{% include "gpt_post.js" %}
  var button = document.getElementById("confirm");
  var error = document.getElementById("confirm-error");
  button.addEventListener("click", async function () {
    error.textContent = "";
    button.disabled = true;
    try {
      var res = await post("/api/gpt-auth/confirm", session);
      window.location.assign(res.data.redirect_url);
    } catch (err) {
      error.textContent = err.message;
      button.disabled = false;
    }
  });
})();
