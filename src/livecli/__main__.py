from livecli.commands import main

main()
