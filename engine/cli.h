/* cli.h - the bourse command line's subcommands that live in their own files. */
#ifndef BOURSE_CLI_H
#define BOURSE_CLI_H

/* `bourse replay DIR [options]`: argv[0] is "replay". Returns the exit code:
 * 0, 1 (error), 2 (usage), 4 (the journal has a problem; replayed up to it). */
int cli_replay(int argc, char **argv);

#endif
