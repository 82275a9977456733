package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/puente-project/puente/internal/node"
	"github.com/puente-project/puente/internal/store"
)

const auditUsage = `Usage:
  puente audit denials --dir DIR [--limit N]

Read the node's records for oversight. Run 'puente audit denials -h' for
details.

Example:
  puente audit denials --dir ./mex
`

const auditDenialsUsage = `Usage:
  puente audit denials --dir DIR [--limit N]

List the newest refused attempts on the node in DIR, newest first: when,
who (party:user), what was tried, on which collection or object, and why
it was refused. Those refused were told only that the thing does not exist
or is forbidden.

Flags:
  --dir DIR     node directory (default: $PUENTE_DIR)
  --limit N     how many to show (default 100)

Example:
  puente audit denials --dir ./mex --limit 20
`

func auditCommand() command {
	return command{name: "audit", summary: "read records for oversight (refused attempts)", usage: auditUsage,
		run: subcommands("audit", auditUsage, map[string]func(context.Context, *env, []string) error{
			"denials": runAuditDenials,
		})}
}

func runAuditDenials(ctx context.Context, e *env, args []string) (err error) {
	const cmd = "audit denials"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "")
	limit := fs.Int("limit", 100, "")
	if help, err := parseCommand(e, fs, args, cmd, auditDenialsUsage); help || err != nil {
		return err
	}
	if *limit < 1 {
		return usageError(cmd, "--limit must be at least 1")
	}
	return e.withStore(ctx, cmd, *dirFlag, func(st store.Store, cfg node.Config, dir string) error {
		ds, err := st.Denials(ctx, *limit)
		if err != nil {
			return fmt.Errorf("read refused attempts: %w", err)
		}
		if len(ds) == 0 {
			fmt.Fprintln(e.stdout, "No refused attempts recorded.")
			return nil
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tWHO\tACTION\tTARGET\tREASON")
		for _, d := range ds {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.Time.UTC().Format("2006-01-02T15:04:05.000000Z"), d.Principal,
				d.Action, d.Target, strings.ReplaceAll(d.Reason, "\t", " "))
		}
		return tw.Flush()
	})
}
