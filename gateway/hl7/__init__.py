"""HL7 v2 from EHRs: the MLLP edge of intake, and decisions sent back to the EHR.

An order that needs a prior authorization opens a case through the same group commit as the
HTTP API; later messages about it (cancels, reschedules, coverage changes, documents) change
the open case; every message is kept, and acknowledged only once what it caused is durable.
"""
