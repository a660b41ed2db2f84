from streaming_app.demo.cli import main

raise SystemExit(main())
