"""The tamper-evident audit trail beyond single transactions: the batched writer for reads,
refusals and admin actions, the FHIR AuditEvent export, and verification with an anchor kept
outside the database. The chain itself lives in `gateway.store.audit`."""

from gateway.audit.writer import AuditStoppedError, AuditWriter, audit_writer_in

__all__ = ["AuditStoppedError", "AuditWriter", "audit_writer_in"]
