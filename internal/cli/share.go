package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/puente-project/puente/internal/auth"
	"github.com/puente-project/puente/internal/node"
	"github.com/puente-project/puente/internal/store"
	"github.com/puente-project/puente/internal/taxii"
)

const shareUsage = `Usage:
  puente share --dir DIR --group NAME --user NAME FILE

Share STIX 2.1 objects with a working group from the command line, as
user NAME: exactly what a TAXII client does when it posts them to the
group's collection. The same checks apply: the user must be an enabled
analyst or liaison of this node (and of an agency allowed in the group,
if the group limits agencies), every object is validated, its markings
decide to which member parties it is released, and each release is
recorded in the transparency logs.

FILE is a TAXII envelope, {"objects": [...]}, or - for standard input.

Flags:
  --dir DIR      node directory (default: $PUENTE_DIR)
  --group NAME   the working group (its name or collection id)
  --user NAME    the user who shares

Example:
  puente share --dir ./mex --group fentanyl --user ana seizures.json
`

// maxShareBytes bounds what share reads: the TAXII server's default
// max_content_length.
const maxShareBytes = 10 << 20

func shareCommand() command {
	return command{name: "share", summary: "share STIX objects with a working group", usage: shareUsage, run: runShare}
}

func runShare(ctx context.Context, e *env, args []string) error {
	const cmd = "share"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "")
	group := fs.String("group", "", "")
	user := fs.String("user", "", "")
	e.logFlags(fs)
	help, err := parseFlags(fs, args, cmd, 1) // FILE comes after the flags
	if help {
		fmt.Fprint(e.stdout, shareUsage)
		return nil
	}
	if err != nil {
		return err
	}
	if *group == "" || *user == "" {
		return usageError(cmd, "--group and --user are required")
	}
	if fs.NArg() != 1 {
		return usageError(cmd, "give one FILE (or - for standard input)")
	}
	var body []byte
	if name := fs.Arg(0); name == "-" {
		body, err = io.ReadAll(io.LimitReader(e.stdin, maxShareBytes+1))
	} else {
		body, err = os.ReadFile(name)
	}
	if err != nil {
		return err
	}
	if len(body) > maxShareBytes {
		return fmt.Errorf("the file is larger than %d MiB; split it", maxShareBytes>>20)
	}
	return e.withStore(ctx, cmd, *dirFlag, func(st store.Store, cfg node.Config, dir string) error {
		u, err := st.User(ctx, *user)
		if errors.Is(err, store.ErrNotFound) {
			return withHint(fmt.Errorf("no user %s", *user), fmt.Sprintf("see the users with 'puente user list --dir %s'", quote(dir)))
		}
		if err != nil {
			return err
		}
		if u.Disabled {
			return fmt.Errorf("user %s is disabled", *user)
		}
		c, err := findGroup(ctx, st, *group, dir)
		if err != nil {
			return err
		}
		srv := taxii.New(st, nil, taxii.Config{Party: cfg.Party, MaxContentLength: maxShareBytes})
		p := auth.Principal{Name: u.Name, Party: cfg.Party, Agency: u.Agency, Roles: u.Roles}
		status, err := srv.Share(ctx, p, c.ID, body)
		var te *taxii.Error
		switch {
		case errors.Is(err, taxii.ErrNoWrite):
			return fmt.Errorf("user %s may not add objects to group %s: it takes the analyst or liaison role (and an allowed agency, if the group limits them)", *user, *group)
		case errors.As(err, &te):
			return fmt.Errorf("%s", te.Description)
		case err != nil:
			return err
		}
		fmt.Fprintf(e.stdout, "Shared %d objects with group %s; %d refused.\n", len(status.Successes), *group, len(status.Failures))
		for _, f := range status.Failures {
			fmt.Fprintf(e.stdout, "refused: %s %s: %s\n", f.ID, f.Version, f.Message)
		}
		if len(status.Failures) > 0 {
			return &cliError{code: exitFailure, err: fmt.Errorf("%d objects were refused", len(status.Failures))}
		}
		return nil
	})
}
