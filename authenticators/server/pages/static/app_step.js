// The MitID app step: alternate the two QR frames every half second, poll the login, and send
// the form once the app has answered (or the login has expired). Without this script the page
// shows one frame, a link to look again and a button to continue.
(function () {
  "use strict";
  var form = document.getElementById("step-form");
  if (!form || form.getAttribute("data-kind") !== "app") {
    return;
  }
  var pollUrl = form.getAttribute("data-poll");
  var view = form.getAttribute("data-view");
  var img = document.getElementById("app-qr");
  var nojs = document.getElementById("app-nojs");
  var state = document.getElementById("app-state");
  var frames = img ? (img.getAttribute("data-frames") || "").split(" ").filter(Boolean) : [];
  var part = 0;
  var sent = false;
  var frameMs = 500;
  var cache = {};

  if (nojs) {
    nojs.hidden = true;
  }

  function preload(urls) {
    urls.forEach(function (url) {
      if (!cache[url]) {
        cache[url] = new Image();
        cache[url].src = url;
      }
    });
  }

  function flip() {
    if (img && frames.length === 2) {
      part = 1 - part;
      img.src = frames[part];
      img.setAttribute("data-part", String(part + 1));
    }
  }

  function send() {
    if (!sent) {
      sent = true;
      form.submit();
    }
  }

  function show(data) {
    if (data.scanned && img) {
      img.hidden = true;
      if (state) {
        state.setAttribute("data-state", "scanned");
      }
    }
    if (img && data.png && data.png.length === 2 && data.png.join(" ") !== frames.join(" ")) {
      frames = data.png;
      img.setAttribute("data-update", String(data.update));
      preload(frames);
    }
    var code = document.getElementById("app-code");
    if (code && data.code && view === "code") {
      code.textContent = data.code;
      code.setAttribute("data-code", data.code);
    }
  }

  function poll() {
    fetch(pollUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        return response.json();
      })
      .then(function (data) {
        if (data.status === "answered" || data.status === "expired" || data.status === "closed") {
          send();
          return;
        }
        if (data.status === "gone") {
          window.location.reload();
          return;
        }
        show(data);
        frameMs = data.frame_ms || frameMs;
        window.setTimeout(poll, data.poll_ms || 1000);
      })
      .catch(function () {
        window.setTimeout(poll, 2000);
      });
  }

  preload(frames);
  window.setInterval(flip, frameMs);
  poll();
})();
