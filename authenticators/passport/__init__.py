"""The ePassport reader (host side): BAC or PACE, secure messaging, the data groups, Passive,
Active and Chip Authentication, over an APDU transport (a simulated chip or a PC/SC reader)."""
