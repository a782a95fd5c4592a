from __future__ import annotations

import sys

from authenticators.chip.conformance.runner import main

sys.exit(main())
