"""An ePassport chip (ICAO Doc 9303 parts 10 and 11), simulated: the LDS1 files, BAC and PACE with
secure messaging, Active and Chip Authentication, answered as ISO/IEC 7816-4 APDUs."""
