// The report form's "Where": a map to tap (over the shared basemap), the
// device's position on request, and the latitude/longitude boxes kept in
// step with both. The server does the real parsing (either decimal
// separator, MGRS); this only fills the boxes and shows the point.
(function () {
  var el = document.getElementById("location-map");
  var lat = document.getElementById("id_lat");
  var lon = document.getElementById("id_lon");
  var mgrs = document.getElementById("id_mgrs");
  var precision = document.getElementById("id_precision_m");
  var status = document.getElementById("location-status");
  if (!el || !lat || !lon || !window.L || !window.ceasefireBasemap) { return; }
  el.hidden = false;
  var map = window.ceasefireBasemap(el, { scrollWheelZoom: false }).setView([48.5, 33.5], 5);
  var marker = null;

  function number(text) {
    var value = parseFloat(String(text || "").trim().replace(",", "."));
    return isFinite(value) ? value : null;
  }
  function say(text) { if (status) { status.textContent = text || ""; } }
  function show(la, lo, zoom) {
    if (marker) { marker.setLatLng([la, lo]); } else {
      marker = L.circleMarker([la, lo], { radius: 8, color: "#0969da", weight: 3, fillOpacity: 0.5 }).addTo(map);
    }
    map.setView([la, lo], zoom || Math.max(map.getZoom(), 8));
    el.setAttribute("data-picked", la.toFixed(5) + "," + lo.toFixed(5));
  }
  function fill(la, lo) {
    lat.value = la.toFixed(5);
    lon.value = lo.toFixed(5);
    // The boxes now say where; a grid reference typed before would contradict them.
    if (mgrs) { mgrs.value = ""; }
  }
  function fromBoxes() {
    var la = number(lat.value), lo = number(lon.value);
    if (la !== null && lo !== null && Math.abs(la) <= 90 && Math.abs(lo) <= 180) { show(la, lo); }
  }

  // A phone turned sideways keeps the chosen point in view.
  map.on("resize", function () {
    if (marker) { map.setView(marker.getLatLng(), map.getZoom(), { animate: false }); }
  });

  map.on("click", function (e) {
    var p = e.latlng.wrap();
    fill(p.lat, p.lng);
    show(p.lat, p.lng, map.getZoom());
    say(el.getAttribute("data-picked-text"));
  });
  lat.addEventListener("change", fromBoxes);
  lon.addEventListener("change", fromBoxes);
  fromBoxes();

  var button = document.getElementById("use-my-position");
  if (button && navigator.geolocation) {
    button.hidden = false;
    button.addEventListener("click", function () {
      say(button.getAttribute("data-wait"));
      navigator.geolocation.getCurrentPosition(function (pos) {
        fill(pos.coords.latitude, pos.coords.longitude);
        if (precision && pos.coords.accuracy) { precision.value = String(Math.round(pos.coords.accuracy)); }
        show(pos.coords.latitude, pos.coords.longitude, 12);
        say(button.getAttribute("data-done"));
      }, function () {
        say(button.getAttribute("data-failed"));
      }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
    });
  }
})();
