// Package cli implements the puente command. [Main] takes the arguments
// and the standard streams and returns the exit code, so tests run the
// command in-process.
//
// Results go to standard output; diagnostics go to standard error as
// "puente: error: …" and "puente: hint: …". Exit codes: 0 success,
// 1 failure, 2 wrong usage.
//
// Each subcommand lives in its own file and is listed in [commands].
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/puente-project/puente/internal/node"
	"github.com/puente-project/puente/internal/store"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// command is a subcommand of puente.
type command struct {
	name    string
	summary string // one line for the command list
	usage   string // the full help text, with examples
	// run runs the command with the arguments after its name.
	run func(ctx context.Context, e *env, args []string) error
}

// commands returns the subcommands, in the order help lists them. To add
// one, write NAME.go with a func returning its command, and list it here.
func commands() []command {
	return []command{
		initCommand(),
		serveCommand(),
		demoCommand(),
		userCommand(),
		tokenCommand(),
		groupCommand(),
		agencyCommand(),
		shareCommand(),
		auditCommand(),
		statusCommand(),
		peerCommand(),
		ledgerCommand(),
		verifyCommand(),
		versionCommand(),
		helpCommand(),
	}
}

func findCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// env is what a command runs with: the streams, the environment and the
// logging settings.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string

	logFormat string
	logLevel  slog.LevelVar
	logger    *slog.Logger // built on first use by log
}

// log returns the logger that -log-format and -log-level describe, writing
// to standard error.
func (e *env) log() *slog.Logger {
	if e.logger == nil {
		opts := &slog.HandlerOptions{Level: &e.logLevel}
		var h slog.Handler = slog.NewTextHandler(e.stderr, opts)
		if e.logFormat == "json" {
			h = slog.NewJSONHandler(e.stderr, opts)
		}
		e.logger = slog.New(h)
	}
	return e.logger
}

// logFlags adds the global logging flags to fs. Every flag set has them,
// so they may come before or after the command name.
func (e *env) logFlags(fs *flag.FlagSet) {
	fs.Func("log-format", "log format: text or json", func(s string) error {
		if s != "text" && s != "json" {
			return errors.New("want text or json")
		}
		e.logFormat = s
		return nil
	})
	fs.Func("log-level", "log level: debug, info, warn or error", func(s string) error {
		switch s {
		case "debug", "info", "warn", "error":
			return e.logLevel.UnmarshalText([]byte(s))
		}
		return errors.New("want debug, info, warn or error")
	})
}

const mainUsage = `Puente shares information between the parties of cross-border security
working groups, with proof of what was shared and received.

Usage:
  puente [global flags] COMMAND [flags]

Commands:
%s
Global flags (also accepted after COMMAND):
  --log-format FORMAT   log format on standard error: text (default) or json
  --log-level LEVEL     least important logs to show: debug, info (default),
                        warn or error

Run 'puente help COMMAND' or 'puente COMMAND -h' for the flags of a command.

Example, a first node:
  puente init --dir ./mex --party MEX
  puente serve --dir ./mex
`

func mainUsageText() string {
	var b strings.Builder
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-9s %s\n", c.name, c.summary)
	}
	return fmt.Sprintf(mainUsage, b.String())
}

// Main runs the puente command with args (without the program name) and
// returns the exit code.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv, logFormat: "text"}
	err := run(ctx, e, args)
	if err == nil {
		return exitOK
	}
	return report(stderr, err)
}

func run(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("puente", flag.ContinueOnError)
	e.logFlags(fs)
	if help, err := parseFlags(fs, args, "", -1); err != nil {
		return err
	} else if help {
		fmt.Fprint(e.stdout, mainUsageText())
		return nil
	}
	if fs.NArg() == 0 {
		fmt.Fprint(e.stderr, mainUsageText())
		return &cliError{code: exitUsage, err: errors.New("no command given")}
	}
	name := fs.Arg(0)
	c, ok := findCommand(name)
	if !ok {
		return &cliError{code: exitUsage, err: fmt.Errorf("unknown command %q", name),
			hint: "run 'puente help' for the list of commands"}
	}
	return c.run(ctx, e, fs.Args()[1:])
}

// cliError is an error with an exit code and an optional hint for the
// user.
type cliError struct {
	code int
	err  error
	hint string
}

func (e *cliError) Error() string { return e.err.Error() }
func (e *cliError) Unwrap() error { return e.err }

// usageError returns an error that exits 2 and points to the help of cmd
// ("" for puente itself).
func usageError(cmd string, format string, args ...any) error {
	hint := "run 'puente help' for help"
	if cmd != "" {
		hint = fmt.Sprintf("run 'puente %s -h' for help", cmd)
	}
	return &cliError{code: exitUsage, err: fmt.Errorf(format, args...), hint: hint}
}

// withHint returns err (exit code 1) with a hint for the user.
func withHint(err error, hint string) error {
	return &cliError{code: exitFailure, err: err, hint: hint}
}

// report prints err to w and returns its exit code.
func report(w io.Writer, err error) int {
	code, hint := exitFailure, ""
	var ce *cliError
	if errors.As(err, &ce) {
		code, hint = ce.code, ce.hint
	}
	fmt.Fprintf(w, "puente: error: %v\n", err)
	if hint != "" {
		fmt.Fprintf(w, "puente: hint: %s\n", hint)
	}
	return code
}

// parseFlags parses args with fs. It reports help when -h or --help was
// given. cmd names the command for hints; when maxArgs >= 0, more than
// maxArgs positional arguments are a usage error.
func parseFlags(fs *flag.FlagSet, args []string, cmd string, maxArgs int) (help bool, err error) {
	fs.SetOutput(io.Discard) // we print usage and errors ourselves
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, nil
		}
		return false, usageError(cmd, "%v", err)
	}
	if maxArgs >= 0 && fs.NArg() > maxArgs {
		return false, usageError(cmd, "unexpected argument %q", fs.Arg(maxArgs))
	}
	return false, nil
}

// parseCommand is parseFlags for a command with no positional arguments:
// on -h it prints usage to standard output.
func parseCommand(e *env, fs *flag.FlagSet, args []string, cmd, usage string) (help bool, err error) {
	e.logFlags(fs)
	help, err = parseFlags(fs, args, cmd, 0)
	if help {
		fmt.Fprint(e.stdout, usage)
	}
	return help, err
}

// EnvDir names the environment variable that gives --dir a default.
const EnvDir = "PUENTE_DIR"

// nodeDir returns the node directory: the --dir flag, else $PUENTE_DIR.
func (e *env) nodeDir(cmd, flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if v := e.getenv(EnvDir); v != "" {
		return v, nil
	}
	return "", usageError(cmd, "missing --dir: the node directory")
}

// loadConfig reads the configuration of the node in dir.
func (e *env) loadConfig(dir string) (node.Config, error) {
	cfg, err := node.LoadConfig(dir, e.getenv)
	if errors.Is(err, node.ErrNoNode) {
		return node.Config{}, withHint(err, fmt.Sprintf("create a node with 'puente init --dir %s --party CODE', or check --dir", quote(dir)))
	}
	return cfg, err
}

// nodeConfig reads the configuration of the node for cmd (--dir, else
// $PUENTE_DIR), for commands that work on its files, not its database.
func (e *env) nodeConfig(cmd, dirFlag string) (node.Config, error) {
	dir, err := e.nodeDir(cmd, dirFlag)
	if err != nil {
		return node.Config{}, err
	}
	return e.loadConfig(dir)
}

// openStore opens the database of the node in dir.
func (e *env) openStore(ctx context.Context, dir string) (store.Store, node.Config, error) {
	cfg, err := e.loadConfig(dir)
	if err != nil {
		return nil, node.Config{}, err
	}
	st, err := node.OpenStore(ctx, cfg)
	if err != nil {
		return nil, node.Config{}, err
	}
	return st, cfg, nil
}

// closeStore closes st and adds a failure to *errp.
func closeStore(st store.Store, errp *error) {
	if err := st.Close(); err != nil {
		*errp = errors.Join(*errp, fmt.Errorf("close database: %w", err))
	}
}

// quote returns s quoted for a POSIX shell when it needs quoting, for the
// commands we suggest to the user.
func quote(s string) string {
	safe := s != ""
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./:=@+,", c)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// withStore runs fn with the database of the node for cmd: the directory
// is the --dir flag's value, else $PUENTE_DIR. It closes the database after
// fn and reports a failure to close.
func (e *env) withStore(ctx context.Context, cmd, dirFlag string, fn func(st store.Store, cfg node.Config, dir string) error) (err error) {
	dir, err := e.nodeDir(cmd, dirFlag)
	if err != nil {
		return err
	}
	st, cfg, err := e.openStore(ctx, dir)
	if err != nil {
		return err
	}
	defer closeStore(st, &err)
	return fn(st, cfg, dir)
}
