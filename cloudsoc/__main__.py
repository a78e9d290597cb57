from cloudsoc.cli.main import main

main()
