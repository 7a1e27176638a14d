"""One marked line of jvb-join's in an admin's file (an include at the end of prosody.cfg.lua,
jicofo.conf or jvb.conf): added once at the end, taken out again, every other byte as it was."""

from jvbjoin.formats.javaprops import split_lines


def has_line(text, line):
    return any(existing.strip() == line for existing in split_lines(text or ""))


def with_line(text, line):
    """``text`` with ``line`` at its end, unless it has it already (``None`` stays ``None``)."""
    if text is None or has_line(text, line):
        return text
    return text + ("" if text.endswith("\n") or not text else "\n") + line + "\n"


def without_line(text, line):
    """``text`` without the lines that are ``line``."""
    return "".join(existing for existing in split_lines(text or "") if existing.strip() != line)
