"""The self-test report as JUnit XML, the format CI dashboards read."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from authenticators.chip.selftest.runner import Outcome, Report


def to_element(report: Report) -> ET.Element:
    suites = ET.Element("testsuites", name="mitid-emu chip selftest")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"chip selftest {report.device.get('uri', '')}",
        tests=str(len(report.results)),
        failures=str(report.count(Outcome.FAILED)),
        errors="0",
        skipped=str(report.count(Outcome.SKIPPED)),
        time=f"{report.duration:.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    for key, value in sorted(report.device.items()):
        ET.SubElement(properties, "property", name=str(key), value=str(value))
    ET.SubElement(properties, "property", name="allow_reset", value=str(report.allow_reset))
    for result in report.results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"chip.selftest.{result.area}",
            name=result.name,
            time=f"{result.seconds:.4f}",
        )
        if result.outcome is Outcome.FAILED:
            failure = ET.SubElement(case, "failure", message=result.message)
            failure.text = f"{result.title}: {result.message}"
        elif result.outcome is Outcome.SKIPPED:
            ET.SubElement(case, "skipped", message=result.message)
        else:
            ET.SubElement(case, "system-out").text = f"{result.title}: {result.message}"
    return suites


def write(report: Report, path: Path) -> None:
    tree = ET.ElementTree(to_element(report))
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
