"""Moving cases: the outbox workers, retry policy and the connector instances they send through."""
