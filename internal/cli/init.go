package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/puente-project/puente/internal/node"
)

const initUsage = `Usage:
  puente init --dir DIR --party CODE [--listen HOST:PORT] [--hostname NAME]...
              [--database URL | --database-file FILE]

Create a new node in DIR: its configuration, certificate authority, server
certificate, checkpoint-signing key and database, with the user "admin".
The admin password is printed once: store it in a safe place.

The database is an SQLite file in DIR unless you give a PostgreSQL
database, which must exist and be empty. Several 'puente serve' processes
may share a PostgreSQL database. Keep its password off the command line:
put the whole URL in a file readable only by you (--database-file), or
use PGPASSWORD or ~/.pgpass; $PUENTE_DATABASE overrides both at run time.

Flags:
  --dir DIR            node directory; created if it does not exist
                       (default: $PUENTE_DIR)
  --party CODE         your party: an ISO 3166-1 alpha-3 country code in
                       upper case, like MEX or USA
  --listen HOST:PORT   address the node will serve on (default 127.0.0.1:8443)
  --hostname NAME      another DNS name or IP address that clients use to
                       reach the node; repeat for more
  --database URL       PostgreSQL database, postgres://USER@HOST:PORT/NAME
                       (no password in it)
  --database-file FILE file holding the PostgreSQL URL, password included;
                       read each time the node starts

Examples:
  puente init --dir ./mex --party MEX
  puente init --dir /var/lib/puente --party USA --listen 0.0.0.0:8443 \
      --hostname puente.example.gov
  puente init --dir /var/lib/puente --party MEX \
      --database-file /etc/puente/database-url
`

func initCommand() command {
	return command{name: "init", summary: "create a new node", usage: initUsage, run: runInit}
}

func runInit(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "")
	party := fs.String("party", "", "")
	listen := fs.String("listen", "", "")
	database := fs.String("database", "", "")
	databaseFile := fs.String("database-file", "", "")
	var hostnames []string
	fs.Func("hostname", "", func(s string) error {
		hostnames = append(hostnames, s)
		return nil
	})
	if help, err := parseCommand(e, fs, args, "init", initUsage); help || err != nil {
		return err
	}
	dir, err := e.nodeDir("init", *dirFlag)
	if err != nil {
		return err
	}
	if *party == "" {
		return usageError("init", "missing --party: your party's country code, like MEX")
	}
	if err := node.CheckParty(*party); err != nil {
		return usageError("init", "%v", err)
	}

	if *database != "" && *databaseFile != "" {
		return usageError("init", "give --database or --database-file, not both")
	}
	if *database != "" {
		if err := node.CheckDatabaseURL(*database); err != nil {
			return usageError("init", "%v", err)
		}
	}
	// Ctrl-C while the database is being filled undoes what init made.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := node.Init(ctx, node.InitOptions{Dir: dir, Party: *party, Listen: *listen, Hostnames: hostnames,
		Database: *database, DatabaseFile: *databaseFile})
	if errors.Is(err, node.ErrNodeExists) {
		return withHint(err, fmt.Sprintf("start it with 'puente serve --dir %s', or choose an empty directory for a new node", quote(dir)))
	}
	if err != nil {
		return err
	}
	cfg := res.Config
	w := e.stdout
	fmt.Fprintf(w, "Created the %s node in %s\n\n", cfg.Party, cfg.Dir)
	fmt.Fprintf(w, "  Configuration:   %s\n", cfg.Path(node.ConfigFile))
	fmt.Fprintf(w, "  Database:        %s\n", cfg.DatabaseName())
	fmt.Fprintf(w, "  CA certificate:  %s\n", cfg.Path(cfg.CACert))
	fmt.Fprintf(w, "                   (clients and partners trust this file)\n")
	fmt.Fprintf(w, "  Signing key:     %s\n", res.VerifierKey)
	fmt.Fprintf(w, "                   (public; partners use it to check your logs)\n\n")
	fmt.Fprintf(w, "User: %s\n", node.AdminUser)
	fmt.Fprintf(w, "Password: %s\n", res.AdminPassword)
	fmt.Fprintf(w, "This password is shown only once. Store it in a safe place now.\n\n")
	fmt.Fprintf(w, "Next, start the node:\n  puente serve --dir %s\n", quote(dir))
	return nil
}
