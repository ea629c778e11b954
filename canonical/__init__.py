"""The casegate domain: case types, parties, codes, the status machine and domain events.

Pure: no I/O, no framework, so every other layer and every test can use it without a server.
"""
