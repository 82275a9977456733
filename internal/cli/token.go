package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/puente-project/puente/internal/auth"
	"github.com/puente-project/puente/internal/node"
	"github.com/puente-project/puente/internal/store"
)

const tokenUsage = `Usage:
  puente token create --dir DIR --user NAME
  puente token list --dir DIR [--user NAME]
  puente token revoke --dir DIR --id ID

Create, list and revoke API tokens, for tools that use the node's TAXII
API. Run 'puente token create -h' for details.

Examples:
  TOKEN=$(puente token create --dir ./mex --user ana)
  puente token list --dir ./mex --user ana
  puente token revoke --dir ./mex --id tok-33b869d4da12
`

const tokenListUsage = `Usage:
  puente token list --dir DIR [--user NAME]

List the API tokens of the node in DIR (of one user with --user): their
public ids, users, creation times and whether they are revoked. The
tokens themselves are never stored and cannot be shown again.

Flags:
  --dir DIR     node directory (default: $PUENTE_DIR)
  --user NAME   only this user's tokens

Example:
  puente token list --dir ./mex --user ana
`

const tokenRevokeUsage = `Usage:
  puente token revoke --dir DIR --id ID

Revoke an API token of the node in DIR for good: from the next request on,
it no longer works, also on a running node. Find the id with
'puente token list'.

Flags:
  --dir DIR   node directory (default: $PUENTE_DIR)
  --id ID     the token's public id, like tok-33b869d4da12

Example:
  puente token revoke --dir ./mex --id tok-33b869d4da12
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
			"list":   runTokenList,
			"revoke": runTokenRevoke,
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
	if *user == "" {
		return usageError(cmd, "missing --user: the user the token acts for")
	}
	return e.withStore(ctx, cmd, *dirFlag, func(st store.Store, cfg node.Config, dir string) error {
		u, err := st.User(ctx, *user)
		if errors.Is(err, store.ErrNotFound) {
			return errNoUser(*user, dir)
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
	})
}

func runTokenList(ctx context.Context, e *env, args []string) (err error) {
	const cmd = "token list"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "")
	user := fs.String("user", "", "")
	if help, err := parseCommand(e, fs, args, cmd, tokenListUsage); help || err != nil {
		return err
	}
	return e.withStore(ctx, cmd, *dirFlag, func(st store.Store, cfg node.Config, dir string) error {
		toks, err := st.Tokens(ctx, *user)
		if err != nil {
			return fmt.Errorf("list tokens: %w", err)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSER\tCREATED\tSTATE")
		for _, t := range toks {
			state := "active"
			if t.Revoked {
				state = "revoked"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.ID, t.User, t.Created.UTC().Format(time.RFC3339), state)
		}
		return tw.Flush()
	})
}

func runTokenRevoke(ctx context.Context, e *env, args []string) (err error) {
	const cmd = "token revoke"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "")
	id := fs.String("id", "", "")
	if help, err := parseCommand(e, fs, args, cmd, tokenRevokeUsage); help || err != nil {
		return err
	}
	if *id == "" {
		return usageError(cmd, "missing --id: the token's public id (see 'puente token list')")
	}
	return e.withStore(ctx, cmd, *dirFlag, func(st store.Store, cfg node.Config, dir string) error {
		err := st.RevokeToken(ctx, *id)
		if errors.Is(err, store.ErrNotFound) {
			return withHint(fmt.Errorf("no token %s", *id), fmt.Sprintf("list the tokens with 'puente token list --dir %s'", quote(dir)))
		}
		if err != nil {
			return fmt.Errorf("revoke token %s: %w", *id, err)
		}
		fmt.Fprintf(e.stdout, "Token %s is revoked.\n", *id)
		return nil
	})
}
