// Voortgang: small progressive enhancements. Everything works without this file.
"use strict";

(function () {
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // htmx sends the CSRF token as a header on every request it makes.
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });

  window.Voortgang = window.Voortgang || {};
  window.Voortgang.csrfToken = csrfToken;
})();
