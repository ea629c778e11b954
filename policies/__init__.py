"""casegate policies package."""
