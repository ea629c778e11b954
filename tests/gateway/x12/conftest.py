"""Fixtures of the X12 gateway tests."""

from tests.gateway.x12.support import clearinghouse, live_x12

__all__ = ["clearinghouse", "live_x12"]
