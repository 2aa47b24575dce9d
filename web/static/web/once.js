// Progressive enhancement only: disable a form's buttons once it is sent, so
// a double click does not post twice. The server is safe anyway (the hidden
// idempotency key files a report once), this just spares the round trip.
document.querySelectorAll("form[data-once]").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    // A form that stays on the page (the device outbox sends it itself) can
    // be sent again: one copy of the last button pressed, not one per press.
    form.querySelectorAll("input[data-once-submitter]").forEach(function (old) { old.remove(); });
    if (submitter && submitter.name) {
      var hidden = document.createElement("input");
      hidden.type = "hidden"; hidden.name = submitter.name; hidden.value = submitter.value;
      hidden.setAttribute("data-once-submitter", "");
      form.appendChild(hidden);
    }
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }, 0);
  });
});
