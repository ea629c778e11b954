"""casegate canonical package."""
