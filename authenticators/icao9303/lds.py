"""The ASN.1 of the LDS security object (9303-10 §4.6.2) and the data-group numbering."""

from __future__ import annotations

from asn1crypto import algos, core

#: Data group number -> file identifier and the outer tag of its contents (9303-10 §4.6).
DATA_GROUPS = {
    1: (0x0101, 0x61),
    2: (0x0102, 0x75),
    14: (0x010E, 0x6E),
    15: (0x010F, 0x6F),
}
EF_COM = (0x011E, 0x60)
EF_SOD = (0x011D, 0x77)
EF_CARD_ACCESS = 0x011C

#: The tag EF.COM lists for each data group.
COM_TAGS = {number: tag for number, (_, tag) in DATA_GROUPS.items()}


class DataGroupHash(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012 - asn1crypto declares fields so
        ("data_group_number", core.Integer),
        ("data_group_hash_value", core.OctetString),
    ]


class DataGroupHashValues(core.SequenceOf):  # type: ignore[misc]
    _child_spec = DataGroupHash


class LdsVersionInfo(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012
        ("lds_version", core.PrintableString),
        ("unicode_version", core.PrintableString),
    ]


class LdsSecurityObject(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012 - asn1crypto declares fields so
        ("version", core.Integer),
        ("hash_algorithm", algos.DigestAlgorithm),
        ("data_group_hash_values", DataGroupHashValues),
        ("lds_version_info", LdsVersionInfo, {"optional": True}),
    ]
