"""Reads an Odoo test log; prints failures and a closing 'N passed, N failed' line.

Fails on failed or erroring tests, on a run that ran no test, and, as OCA's CI does,
on any WARNING or ERROR logged while installing or testing the addon.
"""

import re
import sys

SUMMARY = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests")
PROBLEM = re.compile(r"^\S+ \S+ \d+ (WARNING|ERROR|CRITICAL) ")
FAILED_TEST = re.compile(r": (?:FAIL|ERROR): (\S+)")


def main(log_path, odoo_exit_code):
    with open(log_path, encoding="utf-8", errors="replace") as log:
        lines = log.read().splitlines()
    problems = [line for line in lines if PROBLEM.match(line)]
    counts = [SUMMARY.search(line) for line in lines]
    counts = [match for match in counts if match]
    failed = errors = total = 0
    for match in counts:
        failed += int(match.group(1))
        errors += int(match.group(2))
        total += int(match.group(3))
    ran = len([line for line in lines if " Starting " in line and ".test_" in line])
    total = max(total, ran)
    for line in problems:
        print(line)
    # a test may both fail and error (in its clean-up): count each test once
    failing = {match.group(1) for line in lines if (match := FAILED_TEST.search(line))}
    bad = max(len(failing), 1) if failed + errors else 0
    print(f"tests: {max(total - bad, 0)} passed, {bad} failed")
    if not total:
        print("no test ran: is the addon's tests package imported?")
        return 1
    if problems or bad or int(odoo_exit_code):
        print(f"see the whole log in {log_path}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
