"""casegate connectors package."""
