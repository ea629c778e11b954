"""`casegate demo`: the whole gateway on loopback with its sandboxes and a synthetic backlog."""
