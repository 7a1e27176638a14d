"""HOCON quoted strings for the values jvb-join writes into the bridge's config fragment.

A HOCON quoted string is a JSON string: inside the quotes ``"`` and ``\\`` are escaped, and then
nothing in the value (``${x}``, ``include``, ``#``, ``}``) is syntax. Control characters are
refused rather than escaped: HOCON readers differ on ``\\uXXXX`` escapes, and no hostname, JID,
nickname or password jvb-join writes has a reason to hold one.
"""

import json
import os

from jvbjoin.errors import InputError


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


# --- reading -------------------------------------------------------------------------------------
# A reader for the HOCON subset found in bridge configs (jvb.conf, jvb-join.conf): objects and
# dotted keys merged as Typesafe config merges them (later wins, objects merge deeply), quoted and
# unquoted strings, arrays, comments, and ``include`` of files relative to the including file.
# Substitutions (``${...}``) are kept as their text: no client setting of a bridge uses them.

class HoconError(ValueError):
    pass


def load(path, _depth=0):
    """The merged object of the HOCON file at ``path`` (an empty one if it does not exist)."""
    if _depth > 10:
        raise HoconError("includes nested too deeply at {}".format(path))
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except FileNotFoundError:
        return {}
    return _Parser(text, os.path.dirname(path), _depth, path).document()


def loads(text, folder=".", _depth=0):
    return _Parser(text, folder, _depth, "<text>").document()


def get(conf, dotted, default=None):
    """``conf["a"]["b"]`` for ``"a.b"``; ``default`` when a part is missing or not an object."""
    node = conf
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return default
        node = node[part]
    return node


def merge(base, extra):
    """Typesafe's merge: objects merge key by key, anything else is replaced."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


_UNQUOTED_END = set('$"{}[]:=,+#`^?!@*&\\\n')


class _Parser:
    def __init__(self, text, folder, depth, name):
        self.text = text
        self.pos = 0
        self.folder = folder
        self.depth = depth
        self.name = name

    def error(self, what):
        line = self.text.count("\n", 0, self.pos) + 1
        return HoconError("{}: line {}: {}".format(self.name, line, what))

    def peek(self):
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip(self, newlines=True):
        """Skip spaces, comments and (with ``newlines``) line ends and commas between fields."""
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "#" or self.text.startswith("//", self.pos):
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end
            elif ch in " \t\r\ufeff" or (newlines and ch in "\n,"):
                self.pos += 1
            else:
                break

    def document(self):
        self.skip()
        if self.peek() == "{":
            self.pos += 1
            obj = self.fields("}")
            self.pos += 1
        else:
            obj = self.fields("")
        self.skip()
        if self.pos < len(self.text):
            raise self.error("unexpected {!r}".format(self.peek()))
        return obj

    def fields(self, closer):
        obj = {}
        while True:
            self.skip()
            ch = self.peek()
            if ch == closer:
                return obj
            if not ch:
                raise self.error("missing '}'")
            if self.text.startswith("include", self.pos) and not self._key_char(self.pos + 7):
                self.pos += 7
                merge(obj, self.include())
                continue
            path = self.key()
            self.skip(newlines=False)
            ch = self.peek()
            if ch in ":=":
                self.pos += 1
            elif self.text.startswith("+=", self.pos):
                self.pos += 2
            elif ch != "{":
                raise self.error("expected ':' or '=' after {}".format(".".join(path)))
            value = self.value()
            for part in reversed(path[1:]):
                value = {part: value}
            merge(obj, {path[0]: value})

    def _key_char(self, index):
        return index < len(self.text) and self.text[index] not in " \t\"("

    def include(self):
        self.skip(newlines=False)
        required = False
        wrappers = 0
        while True:
            for word in ("required(", "file(", "url(", "classpath("):
                if self.text.startswith(word, self.pos):
                    required = required or word == "required("
                    self.pos += len(word)
                    wrappers += 1
                    self.skip(newlines=False)
                    break
            else:
                break
        if self.peek() != '"':
            raise self.error("include needs a quoted file name")
        target = self.quoted()
        for _ in range(wrappers):
            self.skip(newlines=False)
            if self.peek() != ")":
                raise self.error("missing ')' in include")
            self.pos += 1
        path = target if os.path.isabs(target) else os.path.join(self.folder, target)
        if required and not os.path.exists(path):
            raise self.error("required include {} is missing".format(path))
        return load(path, self.depth + 1)

    def key(self):
        parts, current = [], ""
        while True:
            ch = self.peek()
            if ch == '"':
                current += self.quoted()
            elif ch == ".":
                parts.append(current)
                current = ""
                self.pos += 1
            elif ch and ch not in _UNQUOTED_END and ch not in " \t\r." and not self.text.startswith("//", self.pos):
                start = self.pos
                while self.pos < len(self.text) and self.text[self.pos] not in _UNQUOTED_END \
                        and self.text[self.pos] not in " \t\r." and not self.text.startswith("//", self.pos):
                    self.pos += 1
                current += self.text[start:self.pos]
            else:
                break
        parts.append(current)
        if not any(parts):
            raise self.error("expected a key")
        return [p.strip() for p in parts]

    def quoted(self):
        if self.text.startswith('"""', self.pos):
            end = self.text.find('"""', self.pos + 3)
            if end < 0:
                raise self.error("unterminated \"\"\" string")
            while self.text.startswith('"', end + 3):
                end += 1
            value = self.text[self.pos + 3:end]
            self.pos = end + 3
            return value
        end = self.pos + 1
        while end < len(self.text) and self.text[end] != '"':
            if self.text[end] == "\n":
                raise self.error("unterminated string")
            end += 2 if self.text[end] == "\\" else 1
        if end >= len(self.text):
            raise self.error("unterminated string")
        try:
            value = json.loads(self.text[self.pos:end + 1])
        except ValueError:
            raise self.error("bad string escape")
        self.pos = end + 1
        return value

    def value(self):
        """A value and what follows it on the line (HOCON concatenates ``a b "c"`` to one string)."""
        self.skip(newlines=False)
        ch = self.peek()
        if ch == "{":
            self.pos += 1
            obj = self.fields("}")
            self.pos += 1
            return obj
        if ch == "[":
            self.pos += 1
            items = []
            while True:
                self.skip()
                if self.peek() == "]":
                    self.pos += 1
                    return items
                if not self.peek():
                    raise self.error("missing ']'")
                items.append(self.value())
        pieces = []
        while True:
            ch = self.peek()
            if ch == '"':
                pieces.append(self.quoted())
            elif self.text.startswith("${", self.pos):
                end = self.text.find("}", self.pos)
                if end < 0:
                    raise self.error("unterminated substitution")
                pieces.append(self.text[self.pos:end + 1])
                self.pos = end + 1
            elif ch in " \t":
                start = self.pos
                while self.peek() in (" ", "\t") and self.peek():
                    self.pos += 1
                pieces.append(self.text[start:self.pos])
            elif ch and ch not in "\n\r,}]#" and not self.text.startswith("//", self.pos) and ch != "{":
                start = self.pos
                while self.pos < len(self.text) and self.text[self.pos] not in '\n\r,}]#"$ \t' \
                        and not self.text.startswith("//", self.pos):
                    self.pos += 1
                if self.pos == start:  # a lone '$' that is not a substitution
                    self.pos += 1
                pieces.append(self.text[start:self.pos])
            else:
                break
        text = "".join(pieces).strip()
        if not pieces:
            raise self.error("expected a value")
        return _scalar(text)


def _scalar(text):
    if text in ("true", "yes", "on"):
        return True
    if text in ("false", "no", "off"):
        return False
    if text == "null":
        return None
    return text
