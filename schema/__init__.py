"""The committed contract (the SDL) and the seed JSON Schema, shipped inside the package."""
