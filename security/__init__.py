"""The security and reliability harness: timing, fuzzing, crash consistency, races, brute force
and secrets. Not part of the installed package; run from the repository root (``make security``).
"""
