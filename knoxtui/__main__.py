from knoxtui.agent.warm import main

raise SystemExit(main())
