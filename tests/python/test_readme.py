"""The README's "A container in Python": its container and its unit test, as written there."""

import re

from conftest import SOURCE


def python_blocks():
    text = (SOURCE / "README.md").read_text()
    section = text.split("## A container in Python", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_readme_container_and_its_harness_test():
    container, unit_test = python_blocks()
    scope = {"__name__": "readme"}  # not __main__: the live part needs a daemon
    exec(compile(container, "README.md", "exec"), scope)  # noqa: S102 -- our own README
    exec(compile(unit_test, "README.md", "exec"), scope)  # noqa: S102
    assert len(scope["h"].published()) == 1
