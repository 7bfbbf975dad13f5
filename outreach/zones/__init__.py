"""Zones as places: boundaries and population imported from a city's open-data GeoJSON
(``geojson`` reads and checks a file, ``importer`` previews and applies it), and the zone of a
position (``locate``: point-in-polygon over an STRtree cached per process)."""
