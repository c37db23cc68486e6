"""Write each corpus entry's expected output with the reference consul-template binary.

Run after ``scripts/install-consul-template``:
``.venv/bin/python -m tests.gotemplate.regen_corpus [ENTRY...]``. Entries with a
``data.yaml`` are rendered against the dev server holding that data.
"""

from __future__ import annotations

import sys

from tests.gotemplate import consul_data, harness


def main(names: list[str]) -> int:
    if not harness.REFERENCE_BINARY.exists():
        print("consul-template is not installed: run scripts/install-consul-template")
        return 1
    for entry in harness.load_entries():
        if names and entry.name not in names:
            continue
        if entry.data is not None:
            with consul_data.serve(entry.data) as address:
                outcome = harness.render_reference(entry, address)
        else:
            outcome = harness.render_reference(entry)
        entry.expected_out.unlink(missing_ok=True)
        entry.expected_err.unlink(missing_ok=True)
        if outcome.error is not None:
            entry.expected_err.write_text(outcome.error + "\n", encoding="utf-8")
            print(f"{entry.name}: error: {outcome.error}")
        else:
            assert outcome.output is not None
            entry.expected_out.write_text(outcome.output, encoding="utf-8")
            print(f"{entry.name}: {len(outcome.output)} characters")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
