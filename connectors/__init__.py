"""Connectors: one I/O adapter per kind of external system, behind one small contract.

`contract` is what the gateway calls, `errors` what it gets back on failure, `registry` finds
plugins by name, `http` and `oauth` are shared plumbing, `sandbox` and `testing` let every
connector be tested the same way against a real fake of its far side.
"""
