import sys

from ctmpl.cli import main

sys.exit(main())
