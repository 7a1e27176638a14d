"""A marked line of jvb-join's at the end of an admin's file: added once, taken out again, every
other byte as it was."""

from jvbjoin.formats.lines import has_line, with_line, without_line

LINE = 'include "jvb-join.conf"  # added by jvb-join'


def test_added_once_at_the_end_and_taken_out_leaving_the_admins_bytes():
    admin = "a = 1\r\n# the admin's comment\nb = 2"  # no newline at the end, one CRLF line
    added = with_line(admin, LINE)
    assert added == admin + "\n" + LINE + "\n"
    assert with_line(added, LINE) == added and has_line(added, LINE)
    assert without_line(added, LINE) == admin + "\n"
    assert without_line(admin + "\n", LINE) == admin + "\n"


def test_an_indented_copy_counts_and_every_copy_goes():
    text = "x\n  " + LINE + "\ny\n" + LINE + "\n"
    assert with_line(text, LINE) == text
    assert without_line(text, LINE) == "x\ny\n"


def test_empty_and_missing_files():
    assert with_line("", LINE) == LINE + "\n"
    assert with_line(None, LINE) is None
    assert without_line(None, LINE) == "" and not has_line(None, LINE)
