// The maps of reports (the overview, the verifier's inbox) over the shared
// basemap (basemap.js). Two sources:
// - data-clusters: GET /api/v1/map/clusters/ (with the session) for the view
//   on screen, asked again after each move: every report the reader may see,
//   counted per cell of the server's grid. A circle is a cell: its number is
//   how many reports it holds; selecting it zooms to the cell, a lone
//   report's circle shows its reference and links to it.
// - data-features: the page's own reports (the GeoJSON text itself).
// The element gets data-points (reports drawn) and data-clusters-drawn (circles).
(function () {
  function popupText(p) {
    var text = document.createElement("span");
    text.textContent = [p.reference, p.category, p.alleged_party || "", (p.occurred_at || "").slice(0, 16)]
      .filter(Boolean).join(" · ");
    return text;
  }

  function drawPoints(el, map, data) {
    var layer = L.geoJSON(data, {
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, { radius: 6, color: "#cf222e", weight: 2, fillOpacity: 0.6 });
      },
      onEachFeature: function (feature, marker) { marker.bindPopup(popupText(feature.properties || {})); }
    }).addTo(map);
    // No closer than the 1:50m boundaries can show: a lone point keeps its region around it.
    if (layer.getLayers().length) { map.fitBounds(layer.getBounds(), { padding: [20, 20], maxZoom: 7 }); }
    el.setAttribute("data-points", String(layer.getLayers().length));
  }

  // The view as the API's bbox: longitudes wrapped into -180..180 (west > east
  // across the antimeridian), the whole circle once the view is wider than it.
  function bboxOf(map) {
    var b = map.getBounds();
    var south = Math.max(b.getSouth(), -90), north = Math.min(b.getNorth(), 90);
    var west = b.getWest(), east = b.getEast();
    if (east - west >= 360) { west = -180; east = 180; } else {
      west = ((west + 180) % 360 + 360) % 360 - 180;
      east = ((east + 180) % 360 + 360) % 360 - 180;
    }
    return [west, south, east, north].map(function (v) { return v.toFixed(6); }).join(",");
  }

  function clusterMarker(feature, latlng) {
    var n = feature.properties.count;
    var size = n === 1 ? 14 : Math.min(20 + Math.round(6 * Math.log10(n)) * 2, 48);
    var label = document.createElement("span");
    label.textContent = n === 1 ? "" : (n >= 10000 ? Math.round(n / 1000) + "k" : String(n));
    var icon = L.divIcon({ className: n === 1 ? "map-cluster map-cluster-one" : "map-cluster", iconSize: [size, size],
                           html: label });
    return L.marker(latlng, { icon: icon, keyboard: true, title: n === 1 ? feature.properties.reference : String(n) });
  }

  function clusters(el, map, url) {
    var layer = L.layerGroup().addTo(map);
    var seq = 0;
    function load(first) {
      var mine = ++seq;
      var sep = url.indexOf("?") < 0 ? "?" : "&";
      var query = first ? "zoom=0&bbox=-180,-90,180,90" : "zoom=" + map.getZoom() + "&bbox=" + bboxOf(map);
      fetch(url + sep + query, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          if (mine !== seq) { return; }  // a later move's answer is on its way
          var features = data.features || [];
          if (first) {
            // Frame every report once, then ask for the view's own cells.
            if (features.length) {
              var bounds = L.latLngBounds(features.map(function (f) {
                return [f.geometry.coordinates[1], f.geometry.coordinates[0]];
              }));
              map.fitBounds(bounds, { padding: [20, 20], maxZoom: 7 });
            }
            map.on("moveend", function () { load(false); });
            load(false);
            return;
          }
          layer.clearLayers();
          var total = 0;
          features.forEach(function (f) {
            var p = f.properties, ll = L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]);
            total += p.count;
            var marker = clusterMarker(f, ll).addTo(layer);
            if (p.count === 1) {
              var link = document.createElement("a");
              link.href = (el.getAttribute("data-report-url") || "/reports/0/").replace("/0/", "/" + p.id + "/");
              link.textContent = p.reference;
              marker.bindPopup(link);
            } else {
              marker.on("click", function () {
                var b = p.bbox;
                map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);
              });
            }
          });
          el.setAttribute("data-points", String(total));
          el.setAttribute("data-clusters-drawn", String(features.length));
        });
    }
    load(true);
  }

  Array.prototype.forEach.call(document.querySelectorAll(".reports-map"), function (el) {
    if (!window.L || !window.ceasefireBasemap) { return; }
    var map = window.ceasefireBasemap(el, { scrollWheelZoom: false }).setView([48.5, 35.0], 6);
    var url = el.getAttribute("data-clusters");
    if (url) { clusters(el, map, url); return; }
    var inline = el.getAttribute("data-features");
    if (inline) { drawPoints(el, map, JSON.parse(inline)); return; }
    fetch(el.getAttribute("data-geojson"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) { drawPoints(el, map, data); });
  });
})();
