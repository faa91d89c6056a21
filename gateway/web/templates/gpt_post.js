{# Reads the XSRF cookie (or the copy on <body>) and posts JSON; shared by both GPT connect scripts. #}
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
