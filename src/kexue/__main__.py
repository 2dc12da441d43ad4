from kexue.cli import main

raise SystemExit(main())
