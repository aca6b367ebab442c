import sys

from focusq.cli.main import main

sys.exit(main())
