"""HOCON quoted strings for the values jvb-join writes into the bridge's config fragment.

A HOCON quoted string is a JSON string: inside the quotes ``"`` and ``\\`` are escaped, and then
nothing in the value (``${x}``, ``include``, ``#``, ``}``) is syntax. Control characters are
refused rather than escaped: HOCON readers differ on ``\\uXXXX`` escapes, and no hostname, JID,
nickname or password jvb-join writes has a reason to hold one.
"""

from .errors import InputError


def quote(value):
    """``value`` as a HOCON quoted string. Refuses line breaks: no value jvb-join writes has one,
    and a newline in a password or a JID means the input is not what it claims to be."""
    value = str(value)
    if "\n" in value or "\r" in value or "\u2028" in value or "\u2029" in value:
        raise InputError("a value for the bridge configuration contains a line break",
                         "Check the join token: none of its fields may span lines.")
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif code < 0x20 or 0x7f <= code < 0xa0:
            raise InputError("a value for the bridge configuration contains a control character",
                             "Check the join token: its fields are plain text.")
        elif 0xd800 <= code <= 0xdfff:  # lone surrogates cannot be written as UTF-8
            raise InputError("a value for the bridge configuration is not valid text",
                             "Check the join token.")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)
