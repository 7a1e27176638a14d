"""``python3 -m jvbjoin`` runs the jvb-join command."""

import sys

from .entry import main

sys.exit(main())
