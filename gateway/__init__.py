"""casegate gateway package."""
