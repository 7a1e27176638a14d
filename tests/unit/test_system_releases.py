"""The support table: which releases jvb-join runs on, for which role, read from recorded os-release files."""

import os

import pytest

from jvbjoin.system import releases
from jvbjoin.errors import UsageError

from helpers import DATA, release


@pytest.mark.parametrize("os_name,bridge,server", [
    ("debian-10", True, False), ("debian-11", True, False), ("debian-12", True, True), ("debian-13", True, True),
    ("ubuntu-20.04", True, False), ("ubuntu-22.04", True, False), ("ubuntu-24.04", True, True),
    ("ubuntu-18.04", False, False),
])
def test_support_table_by_role(paths, os_name, bridge, server):
    info = release(os_name, paths)
    for role, supported in (("bridge", bridge), ("server", server)):
        if supported:
            assert getattr(releases.check_supported(info, role), role)
            continue
        with pytest.raises(UsageError) as err:
            releases.check_supported(info, role)
        assert "is not a release jvb-join supports as a {}".format(role) in err.value.message
        assert "--allow-unsupported-release" in err.value.remedy
        assert "Debian 12" in err.value.remedy
        # the brave may go on; the row then carries a codename for Adoptium and a Java guess
        forced = releases.check_supported(info, role, allow_unsupported=True)
        assert forced.codename == info["VERSION_CODENAME"]


def test_codenames_match_the_recorded_os_release_files():
    for name in os.listdir(os.path.join(DATA, "os-release")):
        info = release(name)
        the_row = releases.lookup(info)
        if the_row is not None:
            assert the_row.codename == info["VERSION_CODENAME"], name
