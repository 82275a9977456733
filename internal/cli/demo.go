package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/puente-project/puente/internal/auth"
	"github.com/puente-project/puente/internal/ledger"
	"github.com/puente-project/puente/internal/node"
	"github.com/puente-project/puente/internal/scenario"
	"github.com/puente-project/puente/internal/store"
	"github.com/puente-project/puente/internal/taxii"
)

const demoUsage = `Usage:
  puente demo [--dir DIR] [--listen HOST:PORT]

Start two demonstration nodes on this machine, one for Mexico (MEX) and
one for the United States (USA), each with its own database, keys and
certificate authority; pin each as the other's partner; load the
illustrative scenario; and serve both until interrupted (Ctrl-C).
Federation runs live: each node pulls what the other released to it,
verifies it against the other's transparency log, stores it, and sends a
signed receipt. The demo prints both nodes' addresses, credentials, and
a line each time what was released, verified or acknowledged changes.

The scenario has working groups on fentanyl, precursor chemicals, money
laundering and security coordination, with seizures, laboratories, custody
transfers, a pending joint-operation request and contested statistics.
Every record is labelled demo-data and is illustrative.

Flags:
  --dir DIR            keep the demo nodes in DIR/mex and DIR/usa and reuse
                       them on the next run (default: a temporary
                       directory, removed on exit)
  --listen HOST:PORT   address of the MEX node; the USA node takes the next
                       port (default 127.0.0.1:8443 and 8444, or free ports
                       when those are taken; port 0 picks free ports)

Examples:
  puente demo
  puente demo --dir ./demo --listen 127.0.0.1:9443
`

func demoCommand() command {
	return command{name: "demo", summary: "run two federated demonstration nodes (MEX and USA)", usage: demoUsage, run: runDemo}
}

// demoParties are the demo's nodes, in the order they are shown.
var demoParties = []string{"MEX", "USA"}

// demoNode is one running demo node.
type demoNode struct {
	party     string
	dir       string
	n         *node.Node
	ln        net.Listener
	host      string
	password  string
	admin     store.Token
	adminKey  string
	audit     store.Token
	auditKey  string
	loaded    []loadedGroup
	serveDone chan error
}

func runDemo(ctx context.Context, e *env, args []string) (err error) {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	dirFlag := fs.String("dir", "", "")
	listen := fs.String("listen", "", "")
	if help, err := parseCommand(e, fs, args, "demo", demoUsage); help || err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	base := *dirFlag
	if base == "" {
		tmp, err := os.MkdirTemp("", "puente-demo-")
		if err != nil {
			return fmt.Errorf("create a temporary directory: %w", err)
		}
		defer func() { err = errors.Join(err, os.RemoveAll(tmp)) }()
		base = tmp
	}
	addrs, fallback, err := demoAddrs(*listen)
	if err != nil {
		return usageError("demo", "%v", err)
	}

	var nodes []*demoNode
	defer func() {
		for _, d := range nodes {
			err = errors.Join(err, d.close(context.WithoutCancel(ctx)))
		}
	}()
	for i, party := range demoParties {
		d, err := startDemoNode(ctx, e, filepath.Join(base, strings.ToLower(party)), party, addrs[i], fallback)
		if d != nil {
			nodes = append(nodes, d) // closed by the deferred function
		}
		if err != nil {
			return err
		}
	}
	// Pin each node as the other's partner, at the address it serves on
	// this time.
	for _, a := range nodes {
		for _, b := range nodes {
			if a == b {
				continue
			}
			bundle, err := node.PeerBundle(b.n.Config(), "https://"+b.host+"/")
			if err != nil {
				return err
			}
			p := bundle.Peer()
			p.Added = time.Now()
			if err := a.n.Store().PutPeer(ctx, p); err != nil {
				return fmt.Errorf("pin %s on %s: %w", b.party, a.party, err)
			}
		}
	}

	w := e.stdout
	fmt.Fprintf(w, "Puente demo: two nodes, MEX and USA, with illustrative data (label %q).\n", scenario.Label)
	for _, d := range nodes {
		d.print(w)
	}
	m := nodes[0]
	mcfg := m.n.Config()
	fmt.Fprintf(w, "\nTry:\n  curl --cacert %s -H 'Authorization: Bearer %s' \\\n", quote(mcfg.Path(mcfg.CACert)), m.adminKey)
	fmt.Fprintf(w, "       -H 'Accept: application/taxii+json;version=2.1' https://%s/taxii2/api/collections/\n", m.host)
	fmt.Fprintf(w, "  go run ./cmd/puente verify --key %s --ca %s \\\n", quote(mcfg.Path(mcfg.SigningPub)), quote(mcfg.Path(mcfg.CACert)))
	fmt.Fprintf(w, "       --token %s --url https://%s/ledger/%s/\n", m.auditKey, m.host, ledger.ChannelName("MEX", "USA"))
	fmt.Fprintf(w, "  go run ./cmd/puente share --dir %s --group fentanyl --user %s FILE.json\n", quote(m.dir), node.AdminUser)
	fmt.Fprintf(w, "       (a TAXII envelope of STIX objects: watch the lines below as it crosses to USA)\n\n")
	fmt.Fprintf(w, "Press Ctrl-C to stop.\n\n")

	for _, d := range nodes {
		go func() { d.serveDone <- d.n.Serve(ctx, d.ln) }()
	}
	summary := demoSummary(ctx, w, nodes)
	var errs []error
	for _, d := range nodes {
		if err := <-d.serveDone; err != nil {
			errs = append(errs, fmt.Errorf("%s node: %w", d.party, err))
		}
	}
	<-summary
	for _, d := range nodes {
		d.n = nil // Serve closed it
	}
	return errors.Join(errs...)
}

// demoAddrs returns the addresses of the MEX and USA nodes, and whether
// a taken default may fall back to a free port.
func demoAddrs(listen string) ([]string, bool, error) {
	if listen == "" {
		return []string{"127.0.0.1:8443", "127.0.0.1:8444"}, true, nil
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, false, fmt.Errorf("--listen %q: %w", listen, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65534 {
		return nil, false, fmt.Errorf("--listen %q: bad port", listen)
	}
	next := 0
	if p != 0 {
		next = p + 1
	}
	return []string{listen, net.JoinHostPort(host, strconv.Itoa(next))}, false, nil
}

// startDemoNode creates (or reuses) a demo node in dir, loads the
// scenario, makes this run's tokens and listens.
func startDemoNode(ctx context.Context, e *env, dir, party, addr string, fallback bool) (*demoNode, error) {
	d := &demoNode{party: party, dir: dir, serveDone: make(chan error, 1)}
	res, err := node.Init(ctx, node.InitOptions{Dir: dir, Party: party, Listen: addr})
	switch {
	case err == nil:
		d.password = res.AdminPassword
	case errors.Is(err, node.ErrNodeExists):
		// A second run with --dir: reuse the node and its data.
	default:
		return nil, fmt.Errorf("create the demo node %s: %w", party, err)
	}
	n, err := node.Open(ctx, dir, node.Options{Logger: e.log().With(slog.String("node", party)), Getenv: e.getenv, PullEvery: time.Second})
	if err != nil {
		return nil, err
	}
	d.n = n
	if d.loaded, err = loadScenario(ctx, n.Store(), party); err != nil {
		return d, err
	}
	if err := n.Store().CreateUser(ctx, store.User{Name: demoAuditor, Roles: []string{"auditor"}, Created: time.Now()}); err != nil && !errors.Is(err, store.ErrExists) {
		return d, fmt.Errorf("create the demo auditor: %w", err)
	}
	for _, t := range []struct {
		user   string
		secret *string
		tok    *store.Token
	}{{node.AdminUser, &d.adminKey, &d.admin}, {demoAuditor, &d.auditKey, &d.audit}} {
		secret, tok := auth.NewToken()
		tok.User, tok.Created = t.user, time.Now()
		if err := n.Store().CreateToken(ctx, tok); err != nil {
			return d, fmt.Errorf("create a token: %w", err)
		}
		*t.secret, *t.tok = secret, tok
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil && fallback {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return d, withHint(fmt.Errorf("listen on %s: %w", addr, err), "another program may use this address; choose another with --listen")
	}
	d.ln = ln
	d.host = urlHost(addr, ln.Addr())
	return d, nil
}

// print shows how to reach the node.
func (d *demoNode) print(w io.Writer) {
	cfg := d.n.Config()
	fmt.Fprintf(w, "\n%s node (%s)\n", d.party, d.dir)
	for _, l := range d.loaded {
		if l.count > 0 {
			fmt.Fprintf(w, "  shares in %-22s %3d objects\n", l.group, l.count)
		}
	}
	fmt.Fprintf(w, "  TAXII discovery:  https://%s/taxii2/\n", d.host)
	fmt.Fprintf(w, "  API root:         https://%s/taxii2/api/\n", d.host)
	fmt.Fprintf(w, "  CA certificate:   %s\n", cfg.Path(cfg.CACert))
	fmt.Fprintf(w, "  User:             %s\n", node.AdminUser)
	if d.password != "" {
		fmt.Fprintf(w, "  Password:         %s\n", d.password)
	} else {
		fmt.Fprintf(w, "  Password:         the one printed when %s was created\n", d.dir)
	}
	fmt.Fprintf(w, "  API token:        %s\n", d.adminKey)
	fmt.Fprintf(w, "  Ledger:           https://%s/ledger/ (the transparency logs, one per channel)\n", d.host)
	fmt.Fprintf(w, "  Auditor token:    %s (user %s; reads the ledger)\n", d.auditKey, demoAuditor)
}

// close revokes the run's tokens (a kept demo node must not gather
// tokens that never expire) and closes what is open.
func (d *demoNode) close(ctx context.Context) error {
	var errs []error
	if d.ln != nil && d.n != nil {
		errs = append(errs, d.ln.Close()) // never served
	}
	if d.n != nil {
		errs = append(errs, d.n.Close())
	}
	if d.admin.ID == "" {
		return errors.Join(errs...)
	}
	cfg, err := node.LoadConfig(d.dir, func(string) string { return "" })
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	st, err := node.OpenStore(ctx, cfg)
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("revoke the demo tokens: %w", err))...)
	}
	for _, t := range []store.Token{d.admin, d.audit} {
		if t.ID != "" {
			errs = append(errs, st.RevokeToken(ctx, t.ID))
		}
	}
	return errors.Join(append(errs, st.Close())...)
}

// demoSummary prints, until ctx ends, a line whenever what a channel
// released, what its partner verified or what it acknowledged changes.
func demoSummary(ctx context.Context, w io.Writer, nodes []*demoNode) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		last := ""
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			var parts []string
			for _, from := range nodes {
				for _, to := range nodes {
					if from == to {
						continue
					}
					sts, err := node.LedgerStatus(ctx, from.n.Store(), from.party)
					if err != nil {
						return
					}
					var released, acked int64
					for _, s := range sts {
						if s.Partner == to.party {
							released, acked = s.Size, s.ReceiptSize
						}
					}
					in, err := to.n.Store().Inbound(ctx, from.party)
					if err != nil {
						return
					}
					parts = append(parts, fmt.Sprintf("%s→%s: released %d, verified by %s %d, acknowledged %d",
						from.party, to.party, released, to.party, in.Size, acked))
				}
			}
			line := strings.Join(parts, " | ")
			if line != last {
				fmt.Fprintf(w, "%s  %s\n", time.Now().Format("15:04:05"), line)
				last = line
			}
		}
	}()
	return done
}

// demoAuditor is the demo node's auditor user.
const demoAuditor = "auditor"

type loadedGroup struct {
	group string
	count int
}

// loadScenario creates the scenario's working groups and shares the
// objects that party originates, through the same path as a TAXII POST
// (taxii.Server.Share: validation, release, ledger). It is idempotent: on
// a node that has them already, groups are kept and objects are
// duplicates.
func loadScenario(ctx context.Context, st store.Store, party string) ([]loadedGroup, error) {
	byGroup := map[string][]string{}
	for _, o := range scenario.Objects() {
		if o.Party != party {
			continue
		}
		g := o.Group
		if g == "" {
			g = node.InternalAlias
		}
		byGroup[g] = append(byGroup[g], string(o.JSON))
	}
	names := []string{}
	for _, g := range scenario.Groups() {
		_, err := node.CreateGroup(ctx, st, party, node.Group{Name: g.Name, Description: g.Description, Members: g.Members})
		if err != nil && !errors.Is(err, store.ErrExists) {
			return nil, err
		}
		names = append(names, g.Name)
	}
	names = append(names, node.InternalAlias)
	srv := taxii.New(st, nil, taxii.Config{Party: party})
	admin := auth.Principal{Name: node.AdminUser, Party: party, Roles: []string{"admin"}}
	var out []loadedGroup
	for _, name := range names {
		if objs := byGroup[name]; len(objs) > 0 {
			status, err := srv.Share(ctx, admin, name, []byte(`{"objects":[`+strings.Join(objs, ",")+`]}`))
			if err != nil {
				return nil, fmt.Errorf("load demo objects into %s: %w", name, err)
			}
			if len(status.Failures) > 0 {
				f := status.Failures[0]
				return nil, fmt.Errorf("load demo objects into %s: %s: %s", name, f.ID, f.Message)
			}
		}
		out = append(out, loadedGroup{group: name, count: len(byGroup[name])})
	}
	return out, nil
}
