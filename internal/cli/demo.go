package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/puente-project/puente/internal/auth"
	"github.com/puente-project/puente/internal/ledger"
	"github.com/puente-project/puente/internal/marking"
	"github.com/puente-project/puente/internal/node"
	"github.com/puente-project/puente/internal/scenario"
	"github.com/puente-project/puente/internal/stix"
	"github.com/puente-project/puente/internal/store"
)

const demoUsage = `Usage:
  puente demo [--dir DIR] [--listen HOST:PORT]

Start a demonstration node for Mexico (MEX) on this machine, load the
illustrative scenario into it, and serve TAXII 2.1 until interrupted
(Ctrl-C). It prints the address, a user name, a password and an API token
to try it with any TAXII 2.1 client.

The scenario has working groups on fentanyl, precursor chemicals, money
laundering and security coordination, with seizures, laboratories, custody
transfers, a pending joint-operation request and contested statistics.
Every record is labelled demo-data and is illustrative.

This version runs one node. The United States node, federation between
the two and the transparency log come in later versions.

Flags:
  --dir DIR            keep the demo node in DIR/mex and reuse it on the
                       next run (default: a temporary directory, removed
                       on exit)
  --listen HOST:PORT   address to serve on (default 127.0.0.1:8443, or a
                       free port when that one is taken)

Examples:
  puente demo
  puente demo --dir ./demo --listen 127.0.0.1:9443
`

func demoCommand() command {
	return command{name: "demo", summary: "run a demonstration node with illustrative data", usage: demoUsage, run: runDemo}
}

const demoParty = "MEX"

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
	dir := filepath.Join(base, "mex")

	password := ""
	res, err := node.Init(ctx, node.InitOptions{Dir: dir, Party: demoParty})
	switch {
	case err == nil:
		password = res.AdminPassword
	case errors.Is(err, node.ErrNodeExists):
		// A second run with --dir: reuse the node and its data.
	default:
		return fmt.Errorf("create the demo node: %w", err)
	}

	logger := e.log()
	n, err := node.Open(ctx, dir, node.Options{Logger: logger, Getenv: e.getenv})
	if err != nil {
		return err
	}
	loaded, err := loadScenario(ctx, n.Store(), demoParty)
	if err != nil {
		return errors.Join(err, n.Close())
	}
	secret, tok := auth.NewToken()
	tok.User, tok.Created = node.AdminUser, time.Now()
	if err := n.Store().CreateToken(ctx, tok); err != nil {
		return errors.Join(fmt.Errorf("create a token: %w", err), n.Close())
	}
	// An auditor, who may read the transparency logs.
	if err := n.Store().CreateUser(ctx, store.User{Name: demoAuditor, Roles: []string{"auditor"}, Created: time.Now()}); err != nil && !errors.Is(err, store.ErrExists) {
		return errors.Join(fmt.Errorf("create the demo auditor: %w", err), n.Close())
	}
	auditSecret, auditTok := auth.NewToken()
	auditTok.User, auditTok.Created = demoAuditor, time.Now()
	if err := n.Store().CreateToken(ctx, auditTok); err != nil {
		return errors.Join(fmt.Errorf("create a token: %w", err), n.Close())
	}

	addr := *listen
	if addr == "" {
		addr = n.Config().Listen
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil && *listen == "" {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return withHint(errors.Join(fmt.Errorf("listen on %s: %w", addr, err), n.Close()),
			"another program may use this address; choose another with --listen")
	}

	host := urlHost(addr, ln.Addr())
	cfg := n.Config()
	w := e.stdout
	fmt.Fprintf(w, "Puente demo: the %s node, with illustrative data (label %q).\n\n", cfg.Party, scenario.Label)
	for _, l := range loaded {
		fmt.Fprintf(w, "  %-24s %3d objects\n", l.group, l.count)
	}
	fmt.Fprintf(w, "\n  TAXII discovery:  https://%s/taxii2/\n", host)
	fmt.Fprintf(w, "  API root:         https://%s/taxii2/api/\n", host)
	fmt.Fprintf(w, "  CA certificate:   %s\n", cfg.Path(cfg.CACert))
	fmt.Fprintf(w, "  User:             %s\n", node.AdminUser)
	if password != "" {
		fmt.Fprintf(w, "  Password:         %s\n", password)
	} else {
		fmt.Fprintf(w, "  Password:         the one printed when %s was created\n", dir)
	}
	fmt.Fprintf(w, "  API token:        %s\n\n", secret)
	fmt.Fprintf(w, "  Ledger:           https://%s/ledger/ (the transparency logs, one per channel)\n", host)
	fmt.Fprintf(w, "  Auditor token:    %s (user %s; reads the ledger)\n\n", auditSecret, demoAuditor)
	fmt.Fprintf(w, "Try:\n  curl --cacert %s -H 'Authorization: Bearer %s' \\\n", quote(cfg.Path(cfg.CACert)), secret)
	fmt.Fprintf(w, "       -H 'Accept: application/taxii+json;version=2.1' https://%s/taxii2/api/collections/\n", host)
	fmt.Fprintf(w, "  go run ./cmd/puente verify --key %s --ca %s \\\n", quote(cfg.Path(cfg.SigningPub)), quote(cfg.Path(cfg.CACert)))
	fmt.Fprintf(w, "       --token %s --url https://%s/ledger/%s/\n\n", auditSecret, host, ledger.ChannelName(cfg.Party, "USA"))
	fmt.Fprintf(w, "Press Ctrl-C to stop.\n")
	if err := n.Serve(ctx, ln); err != nil {
		return err
	}
	// The token printed above lives as long as this run: a kept demo node
	// (--dir) must not gather tokens that never expire.
	st, err := node.OpenStore(context.WithoutCancel(ctx), cfg)
	if err != nil {
		return fmt.Errorf("revoke the demo token: %w", err)
	}
	return errors.Join(st.RevokeToken(context.WithoutCancel(ctx), tok.ID),
		st.RevokeToken(context.WithoutCancel(ctx), auditTok.ID), st.Close())
}

// demoAuditor is the demo node's auditor user.
const demoAuditor = "auditor"

type loadedGroup struct {
	group string
	count int
}

// loadScenario creates the scenario's working groups and adds the objects
// that party originates. It is idempotent: on a node that has them already,
// groups are kept and objects are duplicates.
func loadScenario(ctx context.Context, st store.Store, party string) ([]loadedGroup, error) {
	byGroup := map[string][]store.NewObject{}
	for _, o := range scenario.Objects() {
		if o.Party != party {
			continue
		}
		p, err := stix.Parse(o.JSON)
		if err != nil {
			return nil, fmt.Errorf("demo scenario object: %w", err)
		}
		g := o.Group
		if g == "" {
			g = node.InternalAlias
		}
		byGroup[g] = append(byGroup[g], store.NewObject{ID: p.ID, Type: p.Type, SpecVersion: p.SpecVersion,
			Version: p.Version, VersionKey: p.VersionKey, Hash: p.Hash, Raw: p.Raw})
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
	var out []loadedGroup
	for _, name := range names {
		c, err := st.Collection(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("demo group %s: %w", name, err)
		}
		if objs := byGroup[name]; len(objs) > 0 {
			// The same release rule as for objects shared through TAXII;
			// the scenario uses only TLP 2.0 markings.
			g := marking.Group{Members: c.Members, DefaultMarking: c.DefaultMarking, Internal: c.Internal}
			for i := range objs {
				mo, err := marking.ObjectOf(objs[i].Raw, party)
				if err != nil {
					return nil, fmt.Errorf("demo scenario object %s: %w", objs[i].ID, err)
				}
				rs := marking.Compute(mo, g, nil)
				objs[i].Release = store.Release{Originator: rs.Originator, AllMembers: rs.AllMembers, Parties: rs.Parties, Expires: rs.Expires}
				objs[i].Channels = rs.Recipients(c.Members, party, time.Now())
			}
			if _, err := st.AddObjects(ctx, c.ID, objs); err != nil {
				return nil, fmt.Errorf("load demo objects into %s: %w", name, err)
			}
		}
		out = append(out, loadedGroup{group: name, count: len(byGroup[name])})
	}
	return out, nil
}
