"""Pure conversions between canonical cases and each external system's wire format.

No I/O here: a mapping takes values and returns values, so every one is tested with golden
files and no server, and a connector only moves the bytes a mapping produced.
"""
