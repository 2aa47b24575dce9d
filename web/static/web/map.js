// The maps of reports (the overview, the verifier's inbox): the reports'
// GeoJSON as circle markers over the shared basemap (basemap.js). The points
// come from the API (data-geojson, with the session) or with the page
// (data-features: the GeoJSON text itself).
(function () {
  Array.prototype.forEach.call(document.querySelectorAll(".reports-map"), function (el) {
    if (!window.L || !window.ceasefireBasemap) { return; }
    var map = window.ceasefireBasemap(el, { scrollWheelZoom: false }).setView([48.5, 35.0], 6);
    function draw(data) {
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
      // No closer than the 1:50m boundaries can show: a lone point keeps its region around it.
      if (layer.getLayers().length) { map.fitBounds(layer.getBounds(), { padding: [20, 20], maxZoom: 7 }); }
      el.setAttribute("data-points", String(layer.getLayers().length));
    }
    var inline = el.getAttribute("data-features");
    if (inline) {
      draw(JSON.parse(inline));
      return;
    }
    fetch(el.getAttribute("data-geojson"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(draw);
  });
})();
