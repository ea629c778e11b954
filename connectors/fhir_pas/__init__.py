"""Connector for a payer's Da Vinci PAS (FHIR R4) prior-authorization API, with its sandbox."""
