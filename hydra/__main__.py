from hydra.shell.cli import main

raise SystemExit(main())
