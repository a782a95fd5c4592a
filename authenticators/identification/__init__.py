"""The identification app and the RA app: proofing a person with their passport (MRZ, chip, Passive,
Chip and Active Authentication) and their face, then registering a MitID or enrolling another
identifier — every step in the audit trail."""
