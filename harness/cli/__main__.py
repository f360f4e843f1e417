"""`python -m harness.cli` runs uboot-dump."""

import sys

from harness.cli import main

sys.exit(main())
