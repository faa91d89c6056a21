"""The HTML of the `/gpt-connect` consent page: sign in or register, then confirm.

The page shell and CSS are the other browser pages' (gateway/web/templates.py); everything from a
person, the database or the query string goes through `e()`. The two scripts post JSON to the
bridge endpoints (gateway/api/gpt_bridge.py) and carry the response's CSP nonce.
"""

from __future__ import annotations

from gateway.web.templates import e, layout

# Reads the XSRF cookie (or the copy on <body>) and posts JSON; shared by both scripts.
_CALL = r"""
  function xsrf() {
    var m = document.cookie.match(/(?:^|;\s*)XSRF-TOKEN=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : (document.body.dataset.xsrf || "");
  }
  async function post(url, body) {
    var headers = {"Accept": "application/json", "Content-Type": "application/json"};
    var token = xsrf();
    if (token) { headers["X-XSRF-TOKEN"] = token; }
    var resp = await fetch(url, {method: "POST", credentials: "same-origin", headers: headers, body: JSON.stringify(body)});
    var data = null;
    try { data = await resp.json(); } catch (err) { data = null; }
    if (!resp.ok) {
      var fields = data && data.errors ? Object.values(data.errors).flat().join(" ") : "";
      throw new Error(fields || (data && data.message) || ("Request failed (" + resp.status + ")"));
    }
    return data;
  }
  var session = {session_id: document.body.dataset.sessionId, session_sig: document.body.dataset.sessionSig};
"""

REGISTER_SCRIPT = (
    '(function () {\n  "use strict";'
    + _CALL
    + r"""
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
"""
)

CONFIRM_SCRIPT = (
    '(function () {\n  "use strict";'
    + _CALL
    + r"""
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
"""
)


def _session_attrs(session_id: str, session_sig: str, xsrf: str | None = None) -> str:
    attrs = f' data-session-id="{e(session_id)}" data-session-sig="{e(session_sig)}"'
    return attrs + (f' data-xsrf="{e(xsrf)}"' if xsrf else "")


def error_page(*, nonce: str, title: str, message: str) -> str:
    body = f"""
<div class="card narrow">
  <h1>{e(title)}</h1>
  <p class="error" role="alert">{e(message)}</p>
  <p class="muted">Start the connection again from ChatGPT.</p>
</div>"""
    return layout(title, body, nonce=nonce)


def sign_in_page(*, nonce: str, session_id: str, session_sig: str, next_url: str, xsrf: str | None) -> str:
    token_field = f'<input type="hidden" name="_token" value="{e(xsrf)}">' if xsrf else ""
    body = f"""
<header><div><h1>Connect to ChatGPT</h1>
<p class="muted">Sign in or create an account, then confirm the connection.</p></div></header>
<section class="card">
  <h2>Sign in</h2>
  <form method="post" action="/login" id="login-form">
    {token_field}
    <input type="hidden" name="next" value="{e(next_url)}">
    <label for="login-email">Email</label>
    <input id="login-email" name="email" type="email" autocomplete="username" required>
    <label for="login-password">Password</label>
    <input id="login-password" name="password" type="password" autocomplete="current-password" required>
    <div class="actions"><button type="submit">Sign in</button></div>
  </form>
</section>
<section class="card">
  <h2>Create an account</h2>
  <form id="register-form">
    <label for="reg-name">Name</label>
    <input id="reg-name" name="name" type="text" maxlength="255" autocomplete="name" required>
    <label for="reg-email">Email</label>
    <input id="reg-email" name="email" type="email" maxlength="255" autocomplete="email" required>
    <label for="reg-password">Password</label>
    <input id="reg-password" name="password" type="password" minlength="10" autocomplete="new-password" required>
    <p class="muted">At least 10 characters, with upper- and lower-case letters and a number.</p>
    <label for="reg-password-confirmation">Confirm password</label>
    <input id="reg-password-confirmation" name="password_confirmation" type="password" autocomplete="new-password" required>
    <p id="register-error" class="error" role="alert"></p>
    <div class="actions"><button type="submit">Create account</button></div>
  </form>
</section>"""
    return layout(
        "Connect to ChatGPT",
        body,
        nonce=nonce,
        script=REGISTER_SCRIPT,
        body_attrs=_session_attrs(session_id, session_sig, xsrf),
    )


def consent_page(
    *, nonce: str, session_id: str, session_sig: str, xsrf: str, name: str, email: str, verified: bool
) -> str:
    unverified = (
        f'<p class="warning">We sent a verification link to {e(email)}. You can connect now and verify later.</p>'
        if not verified
        else ""
    )
    body = f"""
<div class="card narrow">
  <h1>Connect {e(name)}'s account to ChatGPT?</h1>
  <p class="muted">Signed in as {e(email)}.</p>
  {unverified}
  <p>ChatGPT will be able to read and change your pets, their health records and your profile on
  your behalf. You can revoke its access at any time from your API tokens.</p>
  <p id="confirm-error" class="error" role="alert"></p>
  <div class="actions"><button type="button" id="confirm">Confirm</button></div>
</div>"""
    return layout(
        "Connect to ChatGPT",
        body,
        nonce=nonce,
        script=CONFIRM_SCRIPT,
        body_attrs=_session_attrs(session_id, session_sig, xsrf),
    )
