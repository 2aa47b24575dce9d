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
})();
