"""The coordinators' pages, one module per page: dashboard, lists (encounters, outings, an
outing's report, devices, audit), map, planning, exports and follow-ups; ``common`` holds what
they share (reference labels, filters from the query string, the default period)."""
