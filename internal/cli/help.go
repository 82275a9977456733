package cli

import (
	"context"
	"flag"
	"fmt"
)

const helpUsage = `Usage:
  puente help [COMMAND [SUBCOMMAND]]

Show the list of commands, or the help of one command.

Examples:
  puente help
  puente help init
  puente help user add
`

func helpCommand() command {
	return command{name: "help", summary: "show help for a command", usage: helpUsage, run: runHelp}
}

func runHelp(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("help", flag.ContinueOnError)
	e.logFlags(fs)
	help, err := parseFlags(fs, args, "help", 2)
	if err != nil {
		return err
	}
	if help {
		fmt.Fprint(e.stdout, helpUsage)
		return nil
	}
	if fs.NArg() == 0 {
		fmt.Fprint(e.stdout, mainUsageText())
		return nil
	}
	c, ok := findCommand(fs.Arg(0))
	if !ok {
		return usageError("help", "unknown command %q", fs.Arg(0))
	}
	// Every command and subcommand prints its help for -h.
	return c.run(ctx, e, append(fs.Args()[1:], "-h"))
}

// helpRequested reports whether args ask for help.
func helpRequested(args []string) bool {
	if len(args) == 0 {
		return false
	}
	switch args[0] {
	case "-h", "--h", "-help", "--help":
		return true
	}
	return false
}
