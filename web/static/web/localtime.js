// Times in the viewer's time zone. The server stores and renders UTC; this
// script, when it runs, shows the device's local time instead and keeps UTC
// at hand:
// - <time datetime="…Z" data-local> elements: local text, UTC in the title;
// - report form inputs marked data-local-time: typed as local wall-clock
//   time; the hidden `tz` field tells the server the device's zone (IANA
//   name), and the UTC instant is shown beside each input as it is typed.
// Without JavaScript the pages say UTC and the form takes UTC.
(function () {
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function localValue(d) {
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" +
      pad(d.getHours()) + ":" + pad(d.getMinutes());
  }
  function utcText(d) {
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " +
      pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + " UTC";
  }
  function zoneName() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return ""; }
  }
  var zone = zoneName();

  // Read-only times.
  var fmt = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short"
  });
  Array.prototype.forEach.call(document.querySelectorAll("time[data-local][datetime]"), function (el) {
    var d = new Date(el.getAttribute("datetime"));
    if (isNaN(d.getTime())) { return; }
    el.title = utcText(d);
    el.textContent = fmt.format(d);
    el.setAttribute("data-localized", "1");
  });

  // The report form.
  var tz = document.querySelector("input[name=tz]");
  var inputs = document.querySelectorAll("input[data-local-time]");
  if (!tz || !inputs.length || !zone) { return; }
  // An empty tz: the server rendered the values in UTC (a new form, a draft
  // being edited); a filled one: the form came back with what was typed here.
  var fromServer = !tz.value;
  tz.value = zone;
  Array.prototype.forEach.call(inputs, function (input) {
    if (fromServer && input.value) {
      var d = new Date(input.value + ":00Z");
      if (!isNaN(d.getTime())) { input.value = localValue(d); }
    }
    var echo = document.createElement("span");
    echo.className = "utc-echo muted";
    echo.setAttribute("data-utc-for", input.id);
    echo.setAttribute("aria-live", "polite");
    function update() {
      var d = input.value ? new Date(input.value) : null;
      echo.textContent = d && !isNaN(d.getTime()) ? "= " + utcText(d) : "";
    }
    input.addEventListener("input", update);
    input.addEventListener("change", update);
    input.insertAdjacentElement("afterend", echo);
    update();
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-zone-name]"), function (el) {
    el.textContent = zone;
  });

  // What another script puts back in the form (the device outbox restoring a
  // draft, say) comes with the zone it was typed in. Another zone than this
  // device's (the monitor has travelled): the same instants, shown here in
  // this device's zone, as the page says. The filler sets the zone before the
  // times, so this waits for it to finish.
  tz.addEventListener("change", function () {
    window.setTimeout(function () {
      var from = tz.value;
      if (from === zone) { return; }
      if (from) {
        Array.prototype.forEach.call(inputs, function (input) {
          var t = instantIn(input.value, from);
          if (t !== null) {
            input.value = localValue(new Date(t));
            input.dispatchEvent(new Event("change", { bubbles: true }));
          }
        });
      }
      tz.value = zone;
      tz.dispatchEvent(new Event("input", { bubbles: true }));
    }, 0);
  });

  // "2026-01-01T10:00" as wall-clock time in `name` -> ms since the epoch.
  function instantIn(value, name) {
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value || "");
    if (!m) { return null; }
    var wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
    try {
      var t = wall - offsetIn(wall, name);
      return wall - offsetIn(t, name);
    } catch (e) { return null; }
  }
  function offsetIn(t, name) {
    var parts = {};
    new Intl.DateTimeFormat("en-US", {
      timeZone: name, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit"
    }).formatToParts(new Date(t)).forEach(function (p) { parts[p.type] = +p.value; });
    var asUtc = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
    return asUtc - Math.floor(t / 1000) * 1000;
  }
})();
