from knoxtui.cli import main

raise SystemExit(main())
