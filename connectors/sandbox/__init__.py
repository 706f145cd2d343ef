"""Vendor sandbox: faithful emulators of the Syncro, Synchroteam and FieldCamp APIs.

Shared parts live in this package; each vendor's routes live in ``connectors/<vendor>/sandbox.py``.
"""
