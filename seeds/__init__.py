"""The bundled seeds: the seed files `diplo serve` builds when given no database, shipped inside the package."""
