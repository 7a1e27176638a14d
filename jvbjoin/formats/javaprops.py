"""Java properties files (sip-communicator.properties, logging.properties) as java.util.Properties
reads them: ``key=value``, ``key: value`` and ``key value``, leading white space, ``#`` and ``!``
comment lines, and logical lines continued by an odd number of backslashes at a line's end.

The one reader of these files for the join, doctor, leave and status; writers edit them through
:func:`logical_lines` and :func:`locate`, so a line they leave alone stays byte for byte.
"""

import re

_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_WHITE = " \t\f"
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def split_lines(text):
    """Lines with their ends, split only at LF, CR LF and CR, as the bridge's config readers do.

    str.splitlines also splits at form feeds, NEL and other separators, inside what a Java
    properties reader sees as one line: an edit there would change the middle of an admin's value.
    """
    return _LINE_RE.findall(text)


def _body(line):
    return line.rstrip("\r\n")


def _continues(body):
    return (len(body) - len(body.rstrip("\\"))) % 2 == 1


def _is_comment(body):
    stripped = body.lstrip(_WHITE)
    return stripped[:1] in ("#", "!")


def logical_lines(lines):
    """Group physical lines (with their line ends) into logical lines: a line whose content ends
    in an odd number of backslashes continues on the next one; a comment line never does."""
    groups, current = [], []
    for line in lines:
        current.append(line)
        body = _body(line)
        if (len(current) == 1 and _is_comment(body)) or not _continues(body):
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def continues_at_end(group):
    """Whether a line put after this logical line would be read as part of it (its last physical
    line asks for a continuation)."""
    return not (len(group) == 1 and _is_comment(_body(group[0]))) and _continues(_body(group[-1]))


def _unescape(text):
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "u" and re.match(r"[0-9A-Fa-f]{4}", text[i + 2:i + 6]):
                out.append(chr(int(text[i + 2:i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _split(body):
    """``(key_end, value_start)`` in a first physical line already stripped of its indentation."""
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            i += 2
            continue
        if ch in "=:" or ch in _WHITE:
            break
        i += 1
    key_end = min(i, len(body))
    j = key_end
    while j < len(body) and body[j] in _WHITE:
        j += 1
    if j < len(body) and body[j] in "=:":
        j += 1
        while j < len(body) and body[j] in _WHITE:
            j += 1
    return key_end, j


def _joined(group):
    """The logical line's text: each continuation's backslash and the next line's indentation gone."""
    parts = []
    for n, line in enumerate(group):
        body = _body(line)
        if n:
            body = body.lstrip(_WHITE)
        if n < len(group) - 1 and _continues(body):
            body = body[:-1]
        parts.append(body)
    return "".join(parts)


def locate(group):
    """``(key, head, value)`` of a logical line, None for a comment or a blank line. ``head`` is the
    first physical line up to where the value starts (indentation, key, separator; a separator is
    added when the line has none), so a writer puts a new value right behind it; ``value`` is the
    value as Java reads it, trailing white space dropped."""
    first = _body(group[0])
    indent = len(first) - len(first.lstrip(_WHITE))
    if indent == len(first) or _is_comment(first):
        return None
    text = _joined(group)[indent:]
    key_end, value_start = _split(text)
    head = first[:indent] + (text[:key_end] + "=" if value_start == key_end else text[:value_start])
    raw = text[value_start:]
    value = raw.rstrip(_WHITE)
    if value != raw and (len(value) - len(value.rstrip("\\"))) % 2 == 1:
        value += raw[len(value)]  # an escaped white space ends the value
    return _unescape(text[:key_end]), head, _unescape(value)


def key_of(group):
    """The key of a logical line (its physical lines), None for a comment or a blank line."""
    found = locate(group)
    return found[0] if found else None


def parse(text):
    """``{key: value}`` of a properties text; of a key given twice the last value wins, as in Java."""
    values = {}
    for group in logical_lines(split_lines(text or "")):
        found = locate(group)
        if found and found[0]:
            values[found[0]] = found[2]
    return values
