{# Lists, creates and revokes API tokens through the session-only JSON endpoints (/api/user/api-tokens). #}
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
  var saved = false;  // copied or downloaded: closing loses nothing
  var UNSAVED = "Close without saving the token? It is shown only once and cannot be retrieved later.";

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
      saved = false;
      if (dialog.showModal) { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
    } catch (err) {
      createError.textContent = err.message;
    }
  });
  // The token is shown once: Escape closes the dialog once it is saved, or when the person says
  // so; the browser may also close it without asking (a second Escape), so "close" does the rest.
  dialog.addEventListener("cancel", function (ev) {
    if (!saved && !window.confirm(UNSAVED)) { ev.preventDefault(); }
  });
  dialog.addEventListener("close", function () {
    value.textContent = "";
    download.removeAttribute("href");
    window.location.reload();
  });
  download.addEventListener("click", function () { saved = true; });
  copyButton.addEventListener("click", async function () {
    try {
      await navigator.clipboard.writeText(value.textContent);
      copyButton.textContent = "Copied";
      saved = true;
    } catch (err) {
      var range = document.createRange();
      range.selectNodeContents(value);
      var sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
      copyButton.textContent = "Press Ctrl+C to copy";
    }
  });
  confirmButton.addEventListener("click", function () {
    if (dialog.close) { dialog.close(); return; }  // the "close" listener clears and reloads
    dialog.removeAttribute("open");
    value.textContent = "";
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
