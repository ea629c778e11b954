"""casegate mappings package."""
