"""What a command's exit status means: 0 done, 1 the spec has errors (diagnostics say which),
2 a usage or I/O problem (and an internal error, MLD901). Shared by the argument parser (`cli`)
and the commands it runs (`commands`), which must not import each other."""

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2
