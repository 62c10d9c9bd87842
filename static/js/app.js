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
      if (field.value === field.dataset.sending) {
        delete field.dataset.dirty;
        field.defaultValue = field.value;  // saved: no longer work a live swap must keep
      }
      delete field.dataset.failed;
    } else if (status === 409 || status === 422) {
      // The server's reply shows the problem; the text stays in the field.
    } else if (status === 401) {
      field.dataset.failed = "1";
      setState(field, partsOf(field).form.dataset.msgSignedOut, true, true);
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

  // A round's page after planning from one of its rows (the whole #round-content was
  // swapped, the form with it): focus the field that was refused, or else the message
  // saying what was planned.
  var plannedFromRound = false;
  document.addEventListener("htmx:beforeRequest", function (event) {
    plannedFromRound = !!(event.detail.elt && event.detail.elt.matches && event.detail.elt.matches("form.plan-row"));
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!plannedFromRound) return;
    plannedFromRound = false;
    var content = document.getElementById("round-content");
    if (!content) return;
    var target = content.querySelector("[aria-invalid=true]") || content.querySelector("#round-planned");
    if (target) target.focus();
  });

  // --- The live view ----------------------------------------------------------------
  // #live polls for the other participant's changes; the reply carries out-of-band
  // pieces. A piece that holds the focus or text this person has not saved is never
  // replaced: the swap is skipped, and so is the page's new state (#live-state), so
  // the next poll brings the piece again (until the person is done with it).
  //
  // Contract with the server: #live-state is the last element of every reply
  // (conversations/live.py: reply appends it after the pieces; tests/test_live.py
  // checks it). htmx swaps out-of-band elements in the order of the reply, so when the
  // #live-state swap comes up, every piece has been swapped or skipped, and
  // skippedInReply (reset when the poll is sent) says whether one was skipped.

  var skippedInReply = false;
  var lastAnnounced = 0;

  function holdsUnsavedWork(target) {
    var active = document.activeElement;
    if (active && active !== document.body && target.contains(active)) return true;
    var fields = target.querySelectorAll("textarea, input:not([type=hidden]), select");
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.matches("textarea[data-autosave][data-dirty]")) return true;
      if ((f.tagName === "TEXTAREA" || f.type === "text" || f.type === "date") && f.value !== f.defaultValue) return true;
      if (f.tagName === "SELECT") {
        for (var j = 0; j < f.options.length; j++) {
          if (f.options[j].selected !== f.options[j].defaultSelected) return true;
        }
      }
    }
    // An open editor (a talking point's): unsaved by nature. A preparation's disclosure
    // holds an autosaved field, judged above like any other.
    return !!target.querySelector("details[open]:not(.preparation) form");
  }

  function currentPhase() {
    var input = document.getElementById("current-phase");
    return input ? input.value : "";
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt.id === "live") {
      skippedInReply = false;
      elt.dataset.requestPhase = currentPhase();
    }
  });

  // A reply about a phase this page no longer shows: drop it whole (the revision
  // stays, so the next poll brings the same changes for the phase now open).
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    var elt = event.detail.elt;
    if (elt.id === "live" && elt.dataset.requestPhase !== currentPhase()) event.preventDefault();
  });

  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    var target = event.detail.target;
    if (!target) return;
    if (target.id === "live-state") {
      if (skippedInReply) event.preventDefault();
      return;
    }
    if (target.id === "live-announcer") {
      var span = event.detail.fragment && event.detail.fragment.querySelector
        ? event.detail.fragment.querySelector("[data-revision]") : null;
      var revision = span ? parseInt(span.getAttribute("data-revision"), 10) : 0;
      if (revision && revision <= lastAnnounced) event.preventDefault();
      else lastAnnounced = revision;
      return;
    }
    var live = document.getElementById("live");
    if (live && live.contains(target)) return;
    if (holdsUnsavedWork(target)) {
      skippedInReply = true;
      event.preventDefault();
    }
  });

  // No polling or heartbeat while the tab is hidden; catch up at once when it is shown.
  document.addEventListener("htmx:confirm", function (event) {
    var id = event.detail.elt && event.detail.elt.id;
    if (document.hidden && (id === "live" || id === "presence-beacon")) event.preventDefault();
  });

  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !window.htmx) return;
    var live = document.getElementById("live");
    var beacon = document.getElementById("presence-beacon");
    if (beacon) window.htmx.trigger(beacon, "voortgang:presence");
    if (live) window.htmx.trigger(live, "voortgang:poll");
  });

  // Another phase is shown: say so to the other participant right away.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target && event.detail.target.id === "phase-view" && window.htmx) {
      var beacon = document.getElementById("presence-beacon");
      if (beacon) window.htmx.trigger(beacon, "voortgang:presence");
    }
  });

  // Leaving the page: tell the other participant (best effort).
  window.addEventListener("pagehide", function () {
    var beacon = document.getElementById("presence-beacon");
    if (!beacon || !navigator.sendBeacon) return;
    var data = new FormData();
    data.append("csrf_token", csrfToken());
    data.append("left", "1");
    navigator.sendBeacon(beacon.getAttribute("data-url"), data);
  });

  window.Voortgang = window.Voortgang || {};
  window.Voortgang.csrfToken = csrfToken;
})();

// --- Copy buttons ----------------------------------------------------------------
// <button data-copy="#id" data-copied="..." data-copy-failed="..."> copies the value (or
// text) of the element it names and says so in the status line next to it.
(function () {
  function say(button, text) {
    var row = button.closest(".card") || document;
    var state = row.querySelector(".copy-state");
    if (state) state.textContent = text;
  }

  function copyBySelecting(source) {
    if (!source.select) return false;
    source.focus();
    source.select();
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-copy]") : null;
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var text = "value" in source ? source.value : source.textContent;
    var done = function () { say(button, button.dataset.copied || ""); };
    var failed = function () {
      if (copyBySelecting(source)) done();
      else say(button, button.dataset.copyFailed || "");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, failed);
    } else {
      failed();
    }
  });
})();
