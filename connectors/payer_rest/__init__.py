"""Connector for a payer's JSON REST prior-authorization API, with its sandbox."""
