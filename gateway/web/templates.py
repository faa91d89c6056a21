"""The HTML of the browser pages: plain server-rendered markup with inline CSS and a little vanilla
JavaScript, no build step and no external assets.

Everything that comes from a person or the database goes through `e()` (html.escape, quotes
included). Inline `<style>` and `<script>` carry the response's CSP nonce.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any


def e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


STYLE = """
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d232a;background:#f4f6f8}
main{max-width:880px;margin:0 auto;padding:32px 20px}
h1{font-size:1.5rem;margin:0 0 4px}
h2{font-size:1.1rem;margin:0 0 12px}
.card{background:#fff;border:1px solid #dde3e8;border-radius:10px;padding:20px;margin:0 0 20px}
.narrow{max-width:380px;margin:10vh auto}
label{display:block;font-weight:600;margin:12px 0 4px}
input[type=email],input[type=password],input[type=text]{width:100%;padding:9px 10px;border:1px solid #b9c3cc;border-radius:6px;font:inherit}
.checks{display:flex;flex-wrap:wrap;gap:6px 18px;margin:6px 0 0}
.checks label{display:inline-flex;gap:6px;align-items:center;font-weight:400;margin:0}
button{font:inherit;padding:8px 14px;border-radius:6px;border:1px solid #1f6feb;background:#1f6feb;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#1f6feb}
button.danger{background:#fff;color:#c62828;border-color:#c62828}
a.button{display:inline-block;text-decoration:none;font:inherit;padding:8px 14px;border-radius:6px;border:1px solid #1f6feb;background:#fff;color:#1f6feb}
.actions{display:flex;gap:8px;margin-top:16px;flex-wrap:wrap}
.error{color:#c62828;margin:8px 0 0}
.muted{color:#5b6670}
header{display:flex;justify-content:space-between;align-items:flex-start;gap:12px;margin-bottom:20px}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;padding:8px 6px;border-bottom:1px solid #e6eaee;vertical-align:top}
th{font-size:.85rem;color:#5b6670;font-weight:600}
code,.token{font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
.token{width:100%;padding:10px;border:1px solid #b9c3cc;border-radius:6px;background:#f7f9fb;word-break:break-all}
dialog{border:1px solid #dde3e8;border-radius:10px;max-width:560px;width:calc(100% - 40px);padding:22px}
dialog::backdrop{background:rgba(20,30,40,.45)}
.warning{background:#fff8e1;border:1px solid #f1d27a;border-radius:6px;padding:8px 10px}
"""


def layout(title: str, body: str, *, nonce: str, script: str = "", body_attrs: str = "") -> str:
    script_tag = f'<script nonce="{e(nonce)}">{script}</script>' if script else ""
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="referrer" content="same-origin">'
        f"<title>{e(title)}</title>"
        f'<style nonce="{e(nonce)}">{STYLE}</style>'
        f"</head><body{body_attrs}><main>{body}</main>{script_tag}</body></html>\n"
    )


def login_page(*, nonce: str, next_url: str, email: str = "", error: str | None = None, xsrf: str | None = None) -> str:
    error_html = f'<p class="error" role="alert">{e(error)}</p>' if error else ""
    token_field = f'<input type="hidden" name="_token" value="{e(xsrf)}">' if xsrf else ""
    body = f"""
<div class="card narrow">
  <h1>Sign in</h1>
  <p class="muted">Sign in to manage your API tokens.</p>
  {error_html}
  <form method="post" action="/login">
    {token_field}
    <input type="hidden" name="next" value="{e(next_url)}">
    <label for="email">Email</label>
    <input id="email" name="email" type="email" autocomplete="username" required value="{e(email)}">
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <div class="actions"><button type="submit">Sign in</button></div>
  </form>
</div>"""
    return layout("Sign in", body, nonce=nonce)


def _token_rows(tokens: Sequence[dict[str, Any]]) -> str:
    if not tokens:
        return '<tr id="no-tokens"><td colspan="5" class="muted">You have no API tokens yet.</td></tr>'
    rows = []
    for t in tokens:
        abilities = ", ".join(t["abilities"]) or "none"
        last_used = t["last_used_ago"] or "Never"
        rows.append(
            f'<tr data-token-id="{e(t["id"])}">'
            f'<td class="name">{e(t["name"])}</td>'
            f"<td><code>{e(abilities)}</code></td>"
            f'<td><time datetime="{e(t["created_at"])}">{e(t["created_at"])}</time></td>'
            f'<td title="{e(t["last_used_at"] or "")}">{e(last_used)}</td>'
            f'<td><button type="button" class="danger" data-revoke="{e(t["id"])}" data-name="{e(t["name"])}">'
            "Revoke</button></td></tr>"
        )
    return "\n".join(rows)


def _sign_in_rows(sign_ins: Sequence[dict[str, Any]], xsrf: str) -> str:
    """Tokens that sign-ins minted (003 login, OAuth, 001 tenant login), each revocable by a plain
    form post carrying the XSRF token."""
    if not sign_ins:
        return '<tr id="no-sign-ins"><td colspan="6" class="muted">No signed-in apps or devices.</td></tr>'
    rows = []
    for t in sign_ins:
        last_used = t["last_used_ago"] or "Never"
        rows.append(
            f'<tr data-sign-in-id="{e(t["id"])}">'
            f'<td class="name">{e(t["name"])}</td>'
            f"<td><code>{e(t['kind'])}</code></td>"
            f'<td><time datetime="{e(t["created_at"])}">{e(t["created_at"])}</time></td>'
            f'<td title="{e(t["last_used_at"] or "")}">{e(last_used)}</td>'
            f'<td>{_moment(t["expires_at"], "Never")}</td>'
            '<td><form method="post" action="/developer/sign-ins/revoke">'
            f'<input type="hidden" name="_token" value="{e(xsrf)}">'
            f'<input type="hidden" name="token_id" value="{e(t["id"])}">'
            '<button type="submit" class="danger">Revoke</button></form></td></tr>'
        )
    return "\n".join(rows)


def _moment(iso: str | None, none: str) -> str:
    return f'<time datetime="{e(iso)}">{e(iso)}</time>' if iso else e(none)


def _permission_checks(available: Iterable[str], default: Iterable[str]) -> str:
    checked = set(default)
    return "\n".join(
        f'<label><input type="checkbox" name="permissions" value="{e(p)}"{" checked" if p in checked else ""}>'
        f"<code>{e(p)}</code></label>"
        for p in available
    )


DEVELOPER_SCRIPT = r"""
(function () {
  "use strict";
  var API = "/api/user/api-tokens";
  function xsrf() {
    var m = document.cookie.match(/(?:^|;\s*)XSRF-TOKEN=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : document.body.dataset.xsrf;
  }
  async function call(method, url, body) {
    var resp = await fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: {"Accept": "application/json", "Content-Type": "application/json", "X-XSRF-TOKEN": xsrf()},
      body: body === undefined ? undefined : JSON.stringify(body)
    });
    var data = null;
    try { data = await resp.json(); } catch (err) { data = null; }
    if (resp.status === 401) { window.location.assign("/login?next=/developer"); }
    if (!resp.ok) {
      var fields = data && data.errors ? Object.values(data.errors).flat().join(" ") : "";
      throw new Error(fields || (data && data.message) || ("Request failed (" + resp.status + ")"));
    }
    return data;
  }
  var form = document.getElementById("create-form");
  var createError = document.getElementById("create-error");
  var dialog = document.getElementById("new-token");
  var value = document.getElementById("new-token-value");
  var copyButton = document.getElementById("copy-token");
  var download = document.getElementById("download-token");
  var confirmButton = document.getElementById("confirm-saved");

  form.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    createError.textContent = "";
    var permissions = Array.prototype.map.call(
      form.querySelectorAll('input[name="permissions"]:checked'), function (i) { return i.value; });
    try {
      var res = await call("POST", API, {name: form.elements.name.value, permissions: permissions});
      var secret = res.data.plain_text_token;
      value.textContent = secret;
      download.href = "data:text/plain;charset=utf-8," + encodeURIComponent(secret + "\n");
      download.download = (res.data.token.name.replace(/[^A-Za-z0-9._-]+/g, "-") || "api-token") + ".txt";
      copyButton.textContent = "Copy";
      if (dialog.showModal) { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
    } catch (err) {
      createError.textContent = err.message;
    }
  });
  // The token is shown once: the dialog stays until the person says it is saved.
  dialog.addEventListener("cancel", function (ev) { ev.preventDefault(); });
  copyButton.addEventListener("click", async function () {
    try {
      await navigator.clipboard.writeText(value.textContent);
      copyButton.textContent = "Copied";
    } catch (err) {
      var range = document.createRange();
      range.selectNodeContents(value);
      var sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
      copyButton.textContent = "Press Ctrl+C to copy";
    }
  });
  confirmButton.addEventListener("click", function () {
    value.textContent = "";
    download.removeAttribute("href");
    if (dialog.close) { dialog.close(); } else { dialog.removeAttribute("open"); }
    window.location.reload();
  });
  document.querySelectorAll("button[data-revoke]").forEach(function (button) {
    button.addEventListener("click", async function () {
      var question = "Revoke the token \u201c" + button.dataset.name + "\u201d? Clients using it stop working at once.";
      if (!window.confirm(question)) { return; }
      try {
        await call("DELETE", API + "/" + encodeURIComponent(button.dataset.revoke));
        var row = button.closest("tr");
        if (row) { row.remove(); }
      } catch (err) {
        window.alert(err.message);
      }
    });
  });
})();
"""


def developer_page(
    *,
    nonce: str,
    xsrf: str,
    user_label: str,
    tokens: Sequence[dict[str, Any]],
    available: Sequence[str],
    default: Sequence[str],
    sign_ins: Sequence[dict[str, Any]] = (),
) -> str:
    body = f"""
<header>
  <div><h1>API tokens</h1><p class="muted">Signed in as {e(user_label)}</p></div>
  <form method="post" action="/logout">
    <input type="hidden" name="_token" value="{e(xsrf)}">
    <button type="submit" class="secondary">Sign out</button>
  </form>
</header>
<section class="card">
  <h2>Create a token</h2>
  <p class="muted">Personal access tokens let scripts and integrations call the API as you
  (<code>Authorization: Bearer &lt;token&gt;</code>). Give each one only the permissions it needs.</p>
  <form id="create-form">
    <label for="token-name">Name</label>
    <input id="token-name" name="name" type="text" maxlength="255" required autocomplete="off">
    <label>Permissions</label>
    <div class="checks">{_permission_checks(available, default)}</div>
    <p id="create-error" class="error" role="alert"></p>
    <div class="actions"><button type="submit">Create token</button></div>
  </form>
</section>
<section class="card">
  <h2>Your tokens</h2>
  <table>
    <thead><tr><th>Name</th><th>Permissions</th><th>Created</th><th>Last used</th><th></th></tr></thead>
    <tbody id="tokens">{_token_rows(tokens)}</tbody>
  </table>
</section>
<section class="card">
  <h2>Signed-in apps and devices</h2>
  <p class="muted">Each sign-in through the API (email and password, Google, GitHub, a tenant app)
  holds a token for your whole account until it expires or you revoke it here.</p>
  <table>
    <thead><tr><th>Name</th><th>Kind</th><th>Created</th><th>Last used</th><th>Expires</th><th></th></tr></thead>
    <tbody id="sign-ins">{_sign_in_rows(sign_ins, xsrf)}</tbody>
  </table>
  <form method="post" action="/developer/sign-out-everywhere" class="actions">
    <input type="hidden" name="_token" value="{e(xsrf)}">
    <button type="submit" class="danger">Sign out everywhere</button>
  </form>
  <p class="muted">Signs out every other browser and revokes every token of your account, API tokens
  included; this browser stays signed in.</p>
</section>
<dialog id="new-token" aria-labelledby="new-token-title">
  <h2 id="new-token-title">Your new API token</h2>
  <p class="warning">Copy this token now. It is shown only once and cannot be retrieved later.</p>
  <p id="new-token-value" class="token"></p>
  <div class="actions">
    <button type="button" id="copy-token" class="secondary">Copy</button>
    <a id="download-token" class="button" role="button" download="api-token.txt">Download</a>
    <button type="button" id="confirm-saved">I have saved it</button>
  </div>
</dialog>"""
    # The XSRF value also rides on <body>, for when the cookie is not readable (privacy settings).
    return layout("API tokens", body, nonce=nonce, script=DEVELOPER_SCRIPT, body_attrs=f' data-xsrf="{e(xsrf)}"')
