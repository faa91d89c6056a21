{# Registers through the GPT bridge (/api/gpt-auth/*) with the page's signed connect session. #}
(function () {
  "use strict";
{% include "gpt_post.js" %}
  var form = document.getElementById("register-form");
  var error = document.getElementById("register-error");
  form.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    error.textContent = "";
    var body = Object.assign({}, session, {
      name: form.elements.name.value,
      email: form.elements.email.value,
      password: form.elements.password.value,
      password_confirmation: form.elements.password_confirmation.value
    });
    try {
      await post("/api/gpt-auth/register", body);
      window.location.reload();  // signed in now: the page shows the consent step
    } catch (err) {
      error.textContent = err.message;
    }
  });
})();
