"""token create's options that are checked before anything is made."""

import pytest

from jvbjoin.errors import UsageError
from jvbjoin.server import tokens


@pytest.mark.parametrize("region", ["EU", "eu west", "", "-x", "x" * 33])
def test_bad_region_is_refused_before_anything_is_made(paths, region):
    with pytest.raises(UsageError) as caught:
        tokens.create(paths, 3600, region=region)
    assert "--region must be 1 to 32 lowercase letters" in caught.value.message


@pytest.mark.parametrize("region", [None, "eu", "us-east", "ap-south-1"])
def test_good_region(region):
    assert tokens.check_region(region) == region
