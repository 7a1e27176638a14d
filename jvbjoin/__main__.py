"""``python3 -m jvbjoin`` runs the jvb-join command."""

import sys

from .cli import main

sys.exit(main())
