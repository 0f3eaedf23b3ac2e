from mlopsdsl.schemagen import main

main()
