// Package node configures a Puente node and runs it: [Init] creates a node
// directory (configuration, certificate authority, server certificate,
// checkpoint-signing key, database), [Open] loads one, and [Node.Serve]
// serves its HTTPS API until its context ends, then shuts down gracefully.
//
// A node directory holds:
//
//	puente.json      configuration (see Config)
//	puente.db        SQLite database (unless the node uses PostgreSQL)
//	ca.pem           certificate authority, public: clients and partners trust it
//	ca-key.pem       its private key (0600)
//	server.pem       server certificate, signed by the CA
//	server-key.pem   its private key (0600)
//	signing.key      checkpoint-signing key, [signed note] signer key (0600)
//	signing.pub      its verifier key, public: partners pin it
//	receipt.key      receipt key: co-signs partners' checkpoints (0600)
//	receipt.pub      its verifier key, public: partners pin it
//	signing-retired/ public keys of retired signing keys (puente ledger rotate-key)
//	client.pem       client certificate towards partners (mutual TLS), signed by the CA
//	client-key.pem   its private key (0600)
//
// [signed note]: https://c2sp.org/signed-note
package node

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/puente-project/puente/internal/auth"
	"github.com/puente-project/puente/internal/federation"
	"github.com/puente-project/puente/internal/ledger"
	"github.com/puente-project/puente/internal/store"
)

// logKeySubsystem names the part of the program a log record comes from.
const logKeySubsystem = "subsystem"

// Server limits and timeouts.
const (
	readHeaderTimeout = 10 * time.Second
	// readTimeout and writeTimeout allow a 10 MiB envelope or a page of
	// 1000 objects over a slow link.
	readTimeout    = 2 * time.Minute
	writeTimeout   = 2 * time.Minute
	idleTimeout    = 2 * time.Minute
	maxHeaderBytes = 64 << 10

	// defaultShutdownTimeout is how long in-flight requests may take to
	// finish once the node is asked to stop.
	defaultShutdownTimeout = 15 * time.Second

	// statusTTL is how long TAXII status resources are kept (the
	// specification asks for at least 24 hours), and pruneEvery how often
	// older ones are deleted.
	statusTTL         = 24 * time.Hour
	defaultPruneEvery = 5 * time.Minute
)

// Options are the optional settings of Open. The zero value works.
type Options struct {
	// Logger receives the node's logs; nil discards them.
	Logger *slog.Logger
	// Getenv reads the PUENTE_* environment variables that override the
	// configuration file (see LoadConfig); nil means none.
	Getenv func(string) string
	// PullEvery is how often federation pulls from each partner (default
	// 2s); a partner's notification starts a pull at once.
	PullEvery time.Duration
	// WaitForDatabase makes Open wait, logging why, while a PostgreSQL
	// server cannot be reached, until ctx ends (puente serve).
	WaitForDatabase bool
}

// Node is an open node: its configuration, keys and database. Call Serve
// to serve it, and Close when done.
type Node struct {
	cfg      Config
	logger   *slog.Logger
	st       store.Store
	authn    *auth.Authenticator
	cert     tls.Certificate
	signer   note.Signer
	verifier note.Verifier
	vkey     string           // verifier key, public
	cosigner *ledger.Cosigner // receipt key; nil on nodes made before it existed
	retired  []note.Verifier  // retired signing keys, still good for verification
	client   tls.Certificate  // the node's client certificate, towards partners
	fed      *federation.Federation
	tokenKey []byte
	handler  http.Handler
	denials  *denialLog

	shutdownTimeout time.Duration
	pruneEvery      time.Duration
	checkpointEvery time.Duration
	pullEvery       time.Duration
	now             func() time.Time

	// instance names this process among those serving the node from one
	// database (leases).
	instance string

	closeOnce sync.Once
	closeErr  error
}

// Open loads the node in dir: its configuration, TLS certificate, signing
// key and database. It makes sure the party-internal collection exists.
func Open(ctx context.Context, dir string, opts Options) (*Node, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := LoadConfig(dir, opts.Getenv)
	if err != nil {
		return nil, err
	}
	n := &Node{
		cfg:             cfg,
		logger:          logger.With(slog.String(logKeySubsystem, "node")),
		shutdownTimeout: defaultShutdownTimeout,
		pruneEvery:      defaultPruneEvery,
		checkpointEvery: defaultCheckpointEvery,
		pullEvery:       opts.PullEvery,
		now:             time.Now,
		instance:        newInstanceID(),
	}
	if err := n.loadKeys(ctx); err != nil {
		return nil, fmt.Errorf("open node %s: %w", cfg.Dir, err)
	}
	var st store.Store
	if opts.WaitForDatabase {
		st, err = openStoreWaiting(ctx, cfg, n.logger)
	} else {
		st, err = openStore(ctx, cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("open node %s: %w", cfg.Dir, err)
	}
	if err := checkInternal(ctx, st); err != nil {
		return nil, errors.Join(fmt.Errorf("open node %s: %w", cfg.Dir, err), st.Close())
	}
	n.st = st
	if n.client, err = loadClientCert(cfg, n.now()); err != nil {
		return nil, errors.Join(fmt.Errorf("open node %s: %w", cfg.Dir, err), st.Close())
	}
	fedLog := logger.With(slog.String(logKeySubsystem, "federation"))
	n.fed = federation.New(federation.Options{Party: cfg.Party, Store: st, Cosigner: n.cosigner, Certificate: n.client,
		Logger: fedLog, Interval: n.pullEvery, Progress: catchUpProgress(fedLog)})
	n.authn = auth.NewAuthenticator(st, cfg.Party)
	n.denials = newDenialLog(st, n.logger)
	n.handler = n.routes(logger)
	return n, nil
}

// catchUpProgress logs a line at every tenth of a long pull (10,000
// entries or more), so that an operator sees a catch-up advance.
func catchUpProgress(log *slog.Logger) func(party string, done, total int64) {
	var mu sync.Mutex
	last := map[string]int64{} // party → tenth last logged
	return func(party string, done, total int64) {
		if total < 10_000 {
			return
		}
		tenth := done * 10 / total
		mu.Lock()
		defer mu.Unlock()
		if l, ok := last[party]; ok && l == tenth {
			return
		}
		last[party] = tenth
		log.Info("catching up", slog.String("partner", party), slog.Int64("done", done), slog.Int64("total", total),
			slog.Int64("percent", tenth*10))
	}
}

// loadKeys reads the TLS certificate, the CA and the signing key.
func (n *Node) loadKeys(ctx context.Context) error {
	c := n.cfg
	for _, name := range []string{c.TLSKey, c.SigningKey, c.CAKey} {
		n.checkPrivate(ctx, c.Path(name))
	}
	cert, err := tls.LoadX509KeyPair(c.Path(c.TLSCert), c.Path(c.TLSKey))
	if err != nil {
		return fmt.Errorf("load TLS certificate: %w", err)
	}
	n.cert = cert
	caPEM, err := os.ReadFile(c.Path(c.CACert))
	if err != nil {
		return fmt.Errorf("load CA certificate: %w", err)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("load CA certificate %s: no certificate found", c.Path(c.CACert))
	}
	skey, err := readKeyFile(c.Path(c.SigningKey))
	if err != nil {
		return err
	}
	vkey, err := readKeyFile(c.Path(c.SigningPub))
	if err != nil {
		return err
	}
	n.signer, n.verifier, err = loadSigningKey(skey, vkey)
	if err != nil {
		return err
	}
	n.vkey = vkey
	if n.tokenKey, err = tokenKey(skey); err != nil {
		return err
	}
	if n.retired, err = RetiredKeys(c); err != nil {
		return err
	}
	// The receipt key: nodes made before it existed have none, and
	// cannot acknowledge partners' logs until one is made.
	if rkey, err := readKeyFile(c.Path(c.ReceiptKey)); err == nil {
		n.checkPrivate(ctx, c.Path(c.ReceiptKey))
		if n.cosigner, err = ledger.ParseCosigner(rkey); err != nil {
			return fmt.Errorf("load receipt key %s: %w", c.Path(c.ReceiptKey), err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// checkPrivate warns when a private key file can be read by others.
func (n *Node) checkPrivate(ctx context.Context, path string) {
	fi, err := os.Stat(path)
	if err != nil {
		return // a missing key is reported where it is needed
	}
	if fi.Mode().Perm()&0o077 != 0 {
		n.logger.WarnContext(ctx, "private key file is readable by other users; run chmod 600 on it",
			slog.String("file", path), slog.String("mode", fi.Mode().Perm().String()))
	}
}

// readKeyFile reads a one-line key file.
func readKeyFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("load key: %w", err)
	}
	s, ok := strings.CutSuffix(string(b), "\n")
	if !ok || strings.ContainsAny(s, "\r\n") {
		return "", fmt.Errorf("load key %s: want one line ending in a newline", path)
	}
	return s, nil
}

// OpenStore opens the database of the node whose configuration is cfg, for
// commands that work on it directly; the node may be running at the same
// time. The caller closes the store.
func OpenStore(ctx context.Context, cfg Config) (store.Store, error) {
	return openStore(ctx, cfg)
}

// Config returns the node's configuration.
func (n *Node) Config() Config { return n.cfg }

// Store returns the node's database.
func (n *Node) Store() store.Store { return n.st }

// VerifierKey returns the public key that verifies the party's checkpoints.
func (n *Node) VerifierKey() string { return n.vkey }

// Handler returns the node's HTTP handler (all routes; see routes.go).
func (n *Node) Handler() http.Handler { return n.handler }

// TLSConfig returns the server's TLS configuration: the node's certificate,
// TLS 1.2 or later (Go prefers 1.3). TLS 1.2 is offered only with the
// ECDHE AEAD suites, none of those RFC 7540 appendix A forbids (TAXII 2.1
// section 8.2.2).
func (n *Node) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{n.cert},
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
}

// Serve serves the node over HTTPS on ln until ctx ends, then stops
// accepting connections, lets in-flight requests finish (for up to 15
// seconds), and closes the node. While serving it deletes TAXII status
// resources older than 24 hours every few minutes. It returns nil after a
// clean shutdown. Serve takes ownership of ln and may be called once.
func (n *Node) Serve(ctx context.Context, ln net.Listener) (err error) {
	defer func() { err = errors.Join(err, n.Close()) }()
	logger := n.logger
	srv := &http.Server{
		Handler:           n.handler,
		TLSConfig:         n.serverTLS(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
	}

	janitorCtx, stopJanitor := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { n.janitor(janitorCtx) })
	wg.Go(func() { n.publishLoop(janitorCtx) })
	wg.Go(func() { n.fed.Run(janitorCtx) })
	defer func() {
		stopJanitor()
		wg.Wait()
	}()

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.ServeTLS(ln, "", "") }()
	logger.InfoContext(ctx, "serving", slog.String("addr", ln.Addr().String()), slog.String("party", n.cfg.Party))

	select {
	case err := <-serveErr:
		// The listener failed before we were asked to stop.
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	logger.InfoContext(ctx, "shutting down: waiting for in-flight requests",
		slog.Duration("timeout", n.shutdownTimeout))
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), n.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		closeErr := srv.Close()
		logger.ErrorContext(ctx, "shutdown timed out; closed the remaining connections", slog.Any("error", err))
		return errors.Join(fmt.Errorf("shutdown: %w", err), closeErr)
	}
	if err := <-serveErr; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.InfoContext(ctx, "shutdown complete")
	return nil
}

// janitor deletes old TAXII status resources until ctx ends.
func (n *Node) janitor(ctx context.Context) {
	logger := n.logger.With(slog.String(logKeySubsystem, "janitor"))
	t := time.NewTicker(n.pruneEvery)
	defer t.Stop()
	for {
		cutoff := n.now().Add(-statusTTL)
		k, err := n.st.PruneStatuses(ctx, cutoff)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.ErrorContext(ctx, "prune status resources", slog.Any("error", err))
		case k > 0:
			logger.InfoContext(ctx, "pruned status resources", slog.Int("count", k), slog.Time("cutoff", cutoff))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close closes the node's database. It is safe to call more than once.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.denials.close()
		if err := n.st.Close(); err != nil {
			n.closeErr = fmt.Errorf("close database: %w", err)
		}
	})
	return n.closeErr
}

// newInstanceID returns a name for this process that no other process
// serving the node shares: host name, process id and random bits.
func newInstanceID() string {
	host, _ := os.Hostname()
	b := make([]byte, 6)
	rand.Read(b)
	return fmt.Sprintf("%s/%d/%x", host, os.Getpid(), b)
}

// checkInternal returns an error unless st holds a node: its internal
// collection, which Init makes. A database setting that names the wrong
// database must not become an empty node.
func checkInternal(ctx context.Context, st store.Store) error {
	cs, err := st.Collections(ctx)
	if err != nil {
		return fmt.Errorf("list collections: %w", err)
	}
	if !slices.ContainsFunc(cs, func(c store.Collection) bool { return c.Internal }) {
		return errors.New("the database holds no node: check its setting (database, database_file, $PUENTE_DATABASE), or create a node with puente init")
	}
	return nil
}
