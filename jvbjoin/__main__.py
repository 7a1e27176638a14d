"""``python3 -m jvbjoin`` runs the jvb-join command."""

import sys

from jvbjoin.cli.entry import main

sys.exit(main())
