/* ctca verify: first version (signature mode lands next). */
#include "cli.h"

int cli_cmd_verify(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    cli_error("verify: not implemented yet");
    return CLI_EXIT_USAGE;
}
