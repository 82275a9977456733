package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/puente-project/puente/internal/node"
	"github.com/puente-project/puente/internal/store"
)

const agencyUsage = `Usage:
  puente agency add --dir DIR --name NAME [--title TEXT]
  puente agency list --dir DIR

Record and list the agencies of your party (SEMAR, Guardia Nacional, FGR,
SRE …). Each is a STIX identity kept in the party-internal collection, so
that shared objects can name it as their creator.

Examples:
  puente agency add --dir ./mex --name SEMAR --title "Secretaría de Marina"
  puente agency list --dir ./mex
`

func agencyCommand() command {
	return command{name: "agency", summary: "record and list your party's agencies", usage: agencyUsage,
		run: subcommands("agency", agencyUsage, map[string]func(context.Context, *env, []string) error{
			"add":  runAgencyAdd,
			"list": runAgencyList,
		})}
}

func runAgencyAdd(ctx context.Context, e *env, args []string) (err error) {
	const cmd = "agency add"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "")
	name := fs.String("name", "", "")
	title := fs.String("title", "", "")
	if help, err := parseCommand(e, fs, args, cmd, agencyUsage); help || err != nil {
		return err
	}
	if *name == "" {
		return usageError(cmd, "missing --name: the agency's short name, like SEMAR")
	}
	return e.withStore(ctx, cmd, *dirFlag, func(st store.Store, cfg node.Config, dir string) error {
		a, err := node.AddAgency(ctx, st, cfg.Party, *name, *title)
		if errors.Is(err, node.ErrAgencyExists) {
			return withHint(err, fmt.Sprintf("see the agencies with 'puente agency list --dir %s'", quote(dir)))
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, a.ID)
		fmt.Fprintf(e.stderr, "puente: recorded agency %s (%s)\n", a.Name, a.Title)
		return nil
	})
}

func runAgencyList(ctx context.Context, e *env, args []string) (err error) {
	const cmd = "agency list"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "")
	if help, err := parseCommand(e, fs, args, cmd, agencyUsage); help || err != nil {
		return err
	}
	return e.withStore(ctx, cmd, *dirFlag, func(st store.Store, cfg node.Config, dir string) error {
		as, err := node.Agencies(ctx, st)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tIDENTITY\tTITLE")
		for _, a := range as {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Name, a.ID, a.Title)
		}
		return tw.Flush()
	})
}
