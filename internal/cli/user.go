package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/puente-project/puente/internal/auth"
	"github.com/puente-project/puente/internal/node"
	"github.com/puente-project/puente/internal/store"
)

const userUsage = `Usage:
  puente user add --dir DIR --name NAME [--role ROLE]... [--password-file FILE]
  puente user list --dir DIR
  puente user disable --dir DIR --name NAME
  puente user enable --dir DIR --name NAME

Add, list, disable and enable the users of a node. Run 'puente user add -h'
for details.

Examples:
  puente user add --dir ./mex --name ana --role analyst --role liaison
  puente user list --dir ./mex
  puente user disable --dir ./mex --name ana
`

const userDisableUsage = `Usage:
  puente user disable --dir DIR --name NAME
  puente user enable --dir DIR --name NAME

Disable a user of the node in DIR: from the next request on, the user's
password and API tokens no longer work, also on a running node. Enable
gives them back. Nothing of what the user shared is removed.

Flags:
  --dir DIR     node directory (default: $PUENTE_DIR)
  --name NAME   the user

Examples:
  puente user disable --dir ./mex --name ana
  puente user enable --dir ./mex --name ana
`

const userAddUsage = `Usage:
  puente user add --dir DIR --name NAME [--role ROLE]... [--agency NAME] [--password-file FILE]

Add a user to the node in DIR. Without --password-file, a new password is
made and printed once: give it to the user in a safe way.

Flags:
  --dir DIR              node directory (default: $PUENTE_DIR)
  --name NAME            user name: a-z, 0-9, '.', '_' and '-'
  --role ROLE            a role: analyst, liaison, approver, auditor or admin;
                         repeat for more (default: analyst)
  --agency NAME          the user's agency (see 'puente agency list'); groups
                         that name their agencies take writes only from them
  --password-file FILE   read the password from the first line of FILE
                         ('-' reads standard input); at least 12 characters

Examples:
  puente user add --dir ./mex --name ana
  puente user add --dir ./mex --name luis --role liaison --role analyst
  printf '%s\n' "$PASSWORD" | puente user add --dir ./mex --name bot --password-file -
`

const userListUsage = `Usage:
  puente user list --dir DIR

List the users of the node in DIR with their roles.

Flags:
  --dir DIR   node directory (default: $PUENTE_DIR)

Example:
  puente user list --dir ./mex
`

// minPasswordLen is the shortest password a user may choose.
const minPasswordLen = 12

func userCommand() command {
	return command{name: "user", summary: "add and list users", usage: userUsage,
		run: subcommands("user", userUsage, map[string]func(context.Context, *env, []string) error{
			"add":     runUserAdd,
			"list":    runUserList,
			"disable": func(ctx context.Context, e *env, args []string) error { return runUserSetDisabled(ctx, e, args, true) },
			"enable":  func(ctx context.Context, e *env, args []string) error { return runUserSetDisabled(ctx, e, args, false) },
		})}
}

// subcommands returns the run function of a command that only dispatches
// to its subcommands.
func subcommands(cmd, usage string, subs map[string]func(context.Context, *env, []string) error) func(context.Context, *env, []string) error {
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) == 0 {
			fmt.Fprint(e.stderr, usage)
			return &cliError{code: exitUsage, err: fmt.Errorf("%s: missing subcommand", cmd)}
		}
		if helpRequested(args) {
			fmt.Fprint(e.stdout, usage)
			return nil
		}
		run, ok := subs[args[0]]
		if !ok {
			names := make([]string, 0, len(subs))
			for n := range subs {
				names = append(names, n)
			}
			slices.Sort(names)
			return usageError(cmd, "%s: unknown subcommand %q (want %s)", cmd, args[0], orList(names))
		}
		return run(ctx, e, args[1:])
	}
}

func runUserAdd(ctx context.Context, e *env, args []string) (err error) {
	const cmd = "user add"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "")
	name := fs.String("name", "", "")
	passwordFile := fs.String("password-file", "", "")
	agency := fs.String("agency", "", "")
	var roles []string
	fs.Func("role", "", func(s string) error {
		if err := auth.CheckRole(s); err != nil {
			return err
		}
		if !slices.Contains(roles, s) {
			roles = append(roles, s)
		}
		return nil
	})
	if help, err := parseCommand(e, fs, args, cmd, userAddUsage); help || err != nil {
		return err
	}
	dir, err := e.nodeDir(cmd, *dirFlag)
	if err != nil {
		return err
	}
	if *name == "" {
		return usageError(cmd, "missing --name: the new user's name")
	}
	if err := auth.CheckUserName(*name); err != nil {
		return usageError(cmd, "%v", err)
	}
	if len(roles) == 0 {
		roles = []string{auth.RoleAnalyst}
	}

	password, generated := "", false
	if *passwordFile != "" {
		password, err = readPassword(*passwordFile, e.stdin)
		if err != nil {
			return err
		}
	} else {
		password, generated = auth.NewPassword(), true
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}

	st, _, err := e.openStore(ctx, dir)
	if err != nil {
		return err
	}
	defer closeStore(st, &err)
	if *agency != "" {
		known, err := node.Agencies(ctx, st)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(known, func(a node.Agency) bool { return a.Name == *agency }) {
			return withHint(fmt.Errorf("no agency %s", *agency), fmt.Sprintf("record it with 'puente agency add --dir %s --name %s'", quote(dir), quote(*agency)))
		}
	}
	u := store.User{Name: *name, PasswordHash: hash, Roles: roles, Created: time.Now(), Agency: *agency}
	if err := st.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrExists) {
			return withHint(fmt.Errorf("user %s already exists", *name),
				fmt.Sprintf("choose another name; see the users with 'puente user list --dir %s'", quote(dir)))
		}
		return fmt.Errorf("add user %s: %w", *name, err)
	}
	fmt.Fprintf(e.stdout, "Created user %s with roles: %s\n", *name, strings.Join(roles, ", "))
	if generated {
		fmt.Fprintf(e.stdout, "Password: %s\n", password)
		fmt.Fprintf(e.stdout, "This password is shown only once. Give it to the user in a safe way.\n")
	}
	return nil
}

// readPassword reads a password from the first line of the file at path,
// or of stdin when path is "-".
func readPassword(path string, stdin io.Reader) (string, error) {
	r := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		defer f.Close()
		r = f
	}
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from %s: %w", path, err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if len([]rune(line)) < minPasswordLen {
		return "", fmt.Errorf("the password in %s is shorter than %d characters", path, minPasswordLen)
	}
	return line, nil
}

func runUserList(ctx context.Context, e *env, args []string) (err error) {
	const cmd = "user list"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "")
	if help, err := parseCommand(e, fs, args, cmd, userListUsage); help || err != nil {
		return err
	}
	return e.withStore(ctx, cmd, *dirFlag, func(st store.Store, cfg node.Config, dir string) error {
		users, err := st.Users(ctx)
		if err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLES\tAGENCY\tSTATUS\tCREATED")
		for _, u := range users {
			status := "enabled"
			if u.Disabled {
				status = "disabled"
			}
			agency := u.Agency
			if agency == "" {
				agency = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Name, strings.Join(u.Roles, ","), agency, status, formatTime(u.Created))
		}
		return tw.Flush()
	})
}

// formatTime formats t for lists: UTC, to the minute.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func runUserSetDisabled(ctx context.Context, e *env, args []string, disabled bool) (err error) {
	cmd := "user enable"
	if disabled {
		cmd = "user disable"
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "")
	name := fs.String("name", "", "")
	if help, err := parseCommand(e, fs, args, cmd, userDisableUsage); help || err != nil {
		return err
	}
	if *name == "" {
		return usageError(cmd, "missing --name: the user")
	}
	return e.withStore(ctx, cmd, *dirFlag, func(st store.Store, cfg node.Config, dir string) error {
		err := st.SetUserDisabled(ctx, *name, disabled)
		if errors.Is(err, store.ErrNotFound) {
			return errNoUser(*name, dir)
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", cmd, *name, err)
		}
		state := "enabled"
		if disabled {
			state = "disabled"
		}
		fmt.Fprintf(e.stdout, "User %s is %s.\n", *name, state)
		return nil
	})
}

// orList joins names as "a", "a or b", "a, b or c".
func orList(names []string) string {
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// errNoUser is the error for a user name the node in dir does not know.
func errNoUser(name, dir string) error {
	return withHint(fmt.Errorf("no user %s", name), fmt.Sprintf("list the users with 'puente user list --dir %s'", quote(dir)))
}
