"""Reports over stored rows (pure: the report services query, these compute). Stdlib and engine leaves only."""
