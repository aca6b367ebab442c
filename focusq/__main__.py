import sys

from focusq.cli import main

sys.exit(main())
