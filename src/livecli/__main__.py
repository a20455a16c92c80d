from livecli.cli import main

main()
