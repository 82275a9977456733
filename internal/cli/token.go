package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/puente-project/puente/internal/auth"
	"github.com/puente-project/puente/internal/store"
)

const tokenUsage = `Usage:
  puente token create --dir DIR --user NAME

Create API tokens, for tools that use the node's TAXII API. Run
'puente token create -h' for details.

Example:
  TOKEN=$(puente token create --dir ./mex --user ana)
`

const tokenCreateUsage = `Usage:
  puente token create --dir DIR --user NAME

Create an API token for a user of the node in DIR. The token acts with the
user's roles. It is printed alone on standard output, once, so that
scripts can capture it; everything else goes to standard error. Tools send
it as "Authorization: Bearer TOKEN", or as the password of HTTP Basic
authentication with the user's name.

Flags:
  --dir DIR     node directory (default: $PUENTE_DIR)
  --user NAME   the user the token acts for

Examples:
  TOKEN=$(puente token create --dir ./mex --user ana)
  curl --cacert ./mex/ca.pem -H "Authorization: Bearer $TOKEN" \
      https://localhost:8443/taxii2/
`

func tokenCommand() command {
	return command{name: "token", summary: "create API tokens", usage: tokenUsage,
		run: subcommands("token", tokenUsage, map[string]func(context.Context, *env, []string) error{
			"create": runTokenCreate,
		})}
}

func runTokenCreate(ctx context.Context, e *env, args []string) (err error) {
	const cmd = "token create"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "")
	user := fs.String("user", "", "")
	if help, err := parseCommand(e, fs, args, cmd, tokenCreateUsage); help || err != nil {
		return err
	}
	dir, err := e.nodeDir(cmd, *dirFlag)
	if err != nil {
		return err
	}
	if *user == "" {
		return usageError(cmd, "missing --user: the user the token acts for")
	}
	st, _, err := e.openStore(ctx, dir)
	if err != nil {
		return err
	}
	defer closeStore(st, &err)
	u, err := st.User(ctx, *user)
	if errors.Is(err, store.ErrNotFound) {
		return withHint(fmt.Errorf("no user %s", *user), fmt.Sprintf("list the users with 'puente user list --dir %s'", quote(dir)))
	}
	if err != nil {
		return fmt.Errorf("look up user %s: %w", *user, err)
	}
	if u.Disabled {
		return fmt.Errorf("user %s is disabled", *user)
	}
	secret, tok := auth.NewToken()
	tok.User, tok.Created = u.Name, time.Now()
	if err := st.CreateToken(ctx, tok); err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	fmt.Fprintln(e.stdout, secret)
	fmt.Fprintf(e.stderr, "puente: created token %s for user %s; it is shown only once\n", tok.ID, u.Name)
	return nil
}
