from encounter_cli.cli.app import main

main()
