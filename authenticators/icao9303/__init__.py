"""ICAO Doc 9303 primitives the passport chip and its reader share (as ``otp`` is for the code
tokens): BER-TLV, MRZ check digits, the key derivation, the block ciphers and MACs of secure
messaging, and the elliptic-curve arithmetic PACE's generic mapping needs.

Nothing here holds a session or a secret beyond one call: the chip (``firmware_sim.passport``)
and the reader (``authenticators.passport``) each keep their own state.
"""
