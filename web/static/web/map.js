// The overview map: the reports' GeoJSON (the API, with the session) as
// circle markers. With no tile server configured the points still show, on
// the map container's plain background.
(function () {
  var el = document.getElementById("map");
  if (!el || !window.L) { return; }
  var map = L.map(el, { scrollWheelZoom: false }).setView([48.5, 35.0], 6);
  var tiles = el.getAttribute("data-tiles");
  if (tiles) { L.tileLayer(tiles, { maxZoom: 18 }).addTo(map); }
  fetch(el.getAttribute("data-geojson"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var layer = L.geoJSON(data, {
        pointToLayer: function (feature, latlng) {
          return L.circleMarker(latlng, { radius: 6, color: "#cf222e", weight: 2, fillOpacity: 0.6 });
        },
        onEachFeature: function (feature, marker) {
          var p = feature.properties || {};
          var text = document.createElement("span");
          text.textContent = [p.reference, p.category, p.alleged_party || "", (p.occurred_at || "").slice(0, 16)].join(" · ");
          marker.bindPopup(text);
        }
      }).addTo(map);
      if (layer.getLayers().length) { map.fitBounds(layer.getBounds(), { padding: [20, 20], maxZoom: 10 }); }
      el.setAttribute("data-points", String(layer.getLayers().length));
    });
})();
