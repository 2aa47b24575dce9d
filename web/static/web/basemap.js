// One basemap for every map of the site (the report form, the overview, the
// verifier's inbox): Natural Earth's country boundaries, vendored with the
// site (web/static/vendor/world-atlas), drawn as a Leaflet GeoJSON layer, so
// that a map has geography on a closed network with no tile server. Tiles
// are added on top only when MAP_TILE_URL is set (the map element's
// data-tiles). The boundaries' URL is the element's data-basemap.
//
// window.ceasefireBasemap(el, options) -> a Leaflet map; options go to L.map.
// The element gets data-basemap-ready="1" once the boundaries are drawn.
(function () {
  var cache = null;

  function boundaries(url) {
    if (!cache) {
      cache = fetch(url, { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (topology) { return topojson.feature(topology, topology.objects.countries); });
    }
    return cache;
  }

  window.ceasefireBasemap = function (el, options) {
    var opts = options || {};
    // Below the points: the boundaries are drawn in their own pane.
    var map = L.map(el, opts);
    map.createPane("basemap");
    map.getPane("basemap").style.zIndex = 250;
    var tiles = el.getAttribute("data-tiles");
    if (tiles) {
      L.tileLayer(tiles, { maxZoom: 18 }).addTo(map);
    }
    var url = el.getAttribute("data-basemap");
    if (url && window.topojson) {
      boundaries(url).then(function (countries) {
        L.geoJSON(countries, {
          pane: "basemap",
          interactive: false,
          style: {
            color: "#6e7781", weight: 1, opacity: 0.9,
            fillColor: tiles ? "#ffffff" : "#f3efe4", fillOpacity: tiles ? 0 : 1
          }
        }).addTo(map);
        el.setAttribute("data-basemap-ready", "1");
      }).catch(function () {
        el.setAttribute("data-basemap-ready", "0");
      });
    }
    el.classList.add("basemap");
    if (window.ResizeObserver) {
      // A phone turned sideways, a window resized: redraw the boundaries for
      // the new size at once, not after Leaflet's debounced moveend.
      new ResizeObserver(function () { map.invalidateSize(); }).observe(el);
    }
    return map;
  };
})();
