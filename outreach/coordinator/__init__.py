"""The office side's reading of the data: coverage statistics and charts, lists and filters,
the map, outing planning, follow-ups to make, and exports."""
