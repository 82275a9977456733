package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/puente-project/puente/internal/node"
)

const serveUsage = `Usage:
  puente serve --dir DIR [--listen HOST:PORT]

Serve the node in DIR over HTTPS until interrupted (Ctrl-C or SIGTERM).
TAXII 2.1 clients connect to /taxii2/ and must trust the node's CA
certificate (DIR/ca.pem). On interrupt the node stops accepting requests,
lets the running ones finish, and exits.

On a PostgreSQL database, several serve processes may run at once, on one
machine or several, each with a copy of DIR. While the database server
cannot be reached, serve says so and keeps trying.

Flags:
  --dir DIR            node directory (default: $PUENTE_DIR)
  --listen HOST:PORT   address to serve on (default: $PUENTE_LISTEN, else
                       the "listen" of DIR/puente.json)

Examples:
  puente serve --dir ./mex
  puente serve --dir ./mex --listen 0.0.0.0:8443 --log-format json
`

func serveCommand() command {
	return command{name: "serve", summary: "serve a node over HTTPS", usage: serveUsage, run: runServe}
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "")
	listen := fs.String("listen", "", "")
	if help, err := parseCommand(e, fs, args, "serve", serveUsage); help || err != nil {
		return err
	}
	dir, err := e.nodeDir("serve", *dirFlag)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	logger := e.log()
	n, err := node.Open(ctx, dir, node.Options{Logger: logger, Getenv: e.getenv, WaitForDatabase: true})
	if errors.Is(err, node.ErrNoNode) {
		return withHint(err, fmt.Sprintf("create a node with 'puente init --dir %s --party CODE', or check --dir", quote(dir)))
	}
	if err != nil {
		return err
	}
	cfg := n.Config()
	addr := cfg.Listen
	if *listen != "" {
		addr = *listen
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return withHint(errors.Join(fmt.Errorf("listen on %s: %w", addr, err), n.Close()),
			"another program may use this address; choose another with --listen")
	}

	url := "https://" + urlHost(addr, ln.Addr()) + "/taxii2/"
	fmt.Fprintf(e.stdout, "Serving the %s node.\n", cfg.Party)
	fmt.Fprintf(e.stdout, "  TAXII discovery: %s\n", url)
	fmt.Fprintf(e.stdout, "  CA certificate:  %s\n", cfg.Path(cfg.CACert))
	fmt.Fprintf(e.stdout, "Press Ctrl-C to stop.\n")
	logger.InfoContext(ctx, "node ready", slog.String("taxii_discovery", url),
		slog.String("ca_cert", cfg.Path(cfg.CACert)))

	return n.Serve(ctx, ln)
}

// urlHost returns the host:port to put in URLs for a node listening on
// addr (as configured) and bound to bound: the configured host, or
// localhost when it means every interface, with the bound port.
func urlHost(addr string, bound net.Addr) string {
	host, _, _ := net.SplitHostPort(addr)
	_, port, _ := net.SplitHostPort(bound.String())
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
