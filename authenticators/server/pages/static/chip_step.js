// The chip step: on "log in", ask the browser for a WebAuthn assertion of the login's challenge
// from the enrolled credential (navigator.credentials.get), put it in the form and send it with
// the password. A refusal or a missing chip is sent too, so the page can say what happened.
(function () {
  "use strict";
  var form = document.getElementById("step-form");
  if (!form || form.getAttribute("data-kind") !== "chip") {
    return;
  }
  var busy = false;

  function fromB64url(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) {
      b64 += "=";
    }
    var raw = atob(b64);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) {
      out[i] = raw.charCodeAt(i);
    }
    return out;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) {
      raw += String.fromCharCode(bytes[i]);
    }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function put(name, value) {
    document.getElementById("chip-" + name).value = value;
  }

  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    if (submitter && submitter.id !== "chip-use") {
      return; // choose another method, cancel
    }
    if (busy) {
      event.preventDefault();
      return;
    }
    if (!window.PublicKeyCredential || !navigator.credentials) {
      put("chip_error", "unsupported");
      return;
    }
    event.preventDefault();
    busy = true;
    var options = {
      challenge: fromB64url(form.getAttribute("data-challenge")),
      rpId: form.getAttribute("data-rp-id"),
      allowCredentials: [{ type: "public-key", id: fromB64url(form.getAttribute("data-allow")) }],
      userVerification: form.getAttribute("data-uv"),
      timeout: parseInt(form.getAttribute("data-timeout"), 10)
    };
    navigator.credentials
      .get({ publicKey: options })
      .then(function (credential) {
        var response = credential.response;
        put("credential_id", toB64url(credential.rawId));
        put("authenticator_data", toB64url(response.authenticatorData));
        put("client_data", toB64url(response.clientDataJSON));
        put("signature", toB64url(response.signature));
        if (response.userHandle) {
          put("user_handle", toB64url(response.userHandle));
        }
      })
      .catch(function (error) {
        put("chip_error", (error && error.name) || "error");
      })
      .then(function () {
        form.submit();
      });
  });
})();
