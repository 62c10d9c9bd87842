// Voortgang: small progressive enhancements on top of htmx. Every page and form
// also works without this file (and without htmx).
"use strict";

(function () {
  document.documentElement.classList.add("js");

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // htmx sends the CSRF token as a header on every request it makes.
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });

  // --- Autosave of the person's own answers --------------------------------------
  // The field posts itself (hx-trigger on the textarea); the reply updates the
  // version, the save state and the problem panel out of band. The field itself is
  // never replaced, so nothing typed is ever lost; here we only keep the state
  // words honest and offer a retry when a save did not arrive.

  function isAutosave(el) {
    return el && el.matches && el.matches("textarea[data-autosave]");
  }

  function partsOf(field) {
    var form = field.form;
    return {
      form: form,
      state: document.getElementById(field.id + "-state"),
      problem: document.getElementById(field.id + "-problem"),
      version: document.getElementById(field.id + "-version"),
    };
  }

  function setState(field, text, failed, withRetry) {
    var parts = partsOf(field);
    if (!parts.state) return;
    parts.state.textContent = "";
    parts.state.classList.toggle("failed", !!failed);
    if (failed) {
      var icon = document.createElement("span");
      icon.setAttribute("aria-hidden", "true");
      icon.textContent = "⚠ ";
      parts.state.appendChild(icon);
    }
    parts.state.appendChild(document.createTextNode(text));
    if (withRetry) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "retry";
      button.setAttribute("data-retry", field.id);
      button.textContent = parts.form.dataset.msgRetry;
      parts.state.appendChild(document.createTextNode(" "));
      parts.state.appendChild(button);
    }
  }

  function save(field) {
    if (window.htmx) window.htmx.trigger(field, "voortgang:save");
  }

  document.addEventListener("input", function (event) {
    if (isAutosave(event.target)) event.target.dataset.dirty = "1";
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var field = event.detail.elt;
    if (!isAutosave(field)) return;
    field.dataset.sending = field.value;
    setState(field, partsOf(field).form.dataset.msgSaving, false, false);
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var field = event.detail.elt;
    if (!isAutosave(field)) return;
    var xhr = event.detail.xhr;
    var status = xhr ? xhr.status : 0;
    if (status === 200) {
      if (field.value === field.dataset.sending) delete field.dataset.dirty;
      delete field.dataset.failed;
    } else if (status === 409 || status === 422) {
      // The server's reply shows the problem; the text stays in the field.
    } else {
      field.dataset.failed = "1";
      setState(field, partsOf(field).form.dataset.msgFailed, true, true);
    }
  });

  document.addEventListener("click", function (event) {
    var retry = event.target.closest("[data-retry]");
    if (retry) {
      save(document.getElementById(retry.getAttribute("data-retry")));
      return;
    }
    var choice = event.target.closest("[data-conflict]");
    if (!choice) return;
    var field = document.getElementById(choice.getAttribute("data-answer"));
    var parts = partsOf(field);
    parts.version.value = choice.getAttribute("data-version");
    if (choice.getAttribute("data-conflict") === "take") {
      var saved = document.getElementById(field.id + "-saved");
      field.value = saved ? saved.textContent : field.value;
      delete field.dataset.dirty;
      setState(field, parts.form.dataset.msgSaved, false, false);
      parts.problem.textContent = "";
      field.focus();
    } else {
      parts.problem.textContent = "";
      save(field);
    }
  });

  // Back online: send what could not be sent.
  window.addEventListener("online", function () {
    document.querySelectorAll("textarea[data-autosave][data-failed]").forEach(save);
  });

  // Leaving the page with unsaved text: let the browser ask first.
  window.addEventListener("beforeunload", function (event) {
    if (document.querySelector("textarea[data-autosave][data-dirty]")) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // After htmx swaps in another phase, move focus to its heading (keyboard and
  // screen reader users land where the new content starts).
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "phase-view") {
      var heading = document.getElementById("phase-title");
      if (heading) heading.focus({ preventScroll: true });
    }
  });

  window.Voortgang = window.Voortgang || {};
  window.Voortgang.csrfToken = csrfToken;
})();
