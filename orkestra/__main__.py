import sys

from orkestra.cli import main

sys.exit(main())
