package node

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/puente-project/puente/internal/auth"
	"github.com/puente-project/puente/internal/ledger"
	"github.com/puente-project/puente/internal/store"
	"github.com/puente-project/puente/internal/store/postgres"
	"github.com/puente-project/puente/internal/store/sqlite"
)

// ErrNodeExists means Init was asked to create a node in a directory that
// already holds one.
var ErrNodeExists = errors.New("directory already holds a node")

// AdminUser is the name of the user Init creates.
const AdminUser = "admin"

// InternalAlias is the alias of the party-internal collection, which every
// node has.
const InternalAlias = "internal"

// stagingDir is where Init builds a node before moving its files into
// place, inside the node's directory.
const stagingDir = ".init-tmp"

// initFault lets tests make Init fail at a named step; it returns nil
// outside tests.
var initFault = func(step string) error { return nil }

// InitOptions says what node Init creates.
type InitOptions struct {
	// Dir is the node's directory. It is created when missing (its parent
	// must exist); an existing one must not hold a node.
	Dir string
	// Party is the ISO 3166-1 alpha-3 code of the node's party.
	Party string
	// Listen is the host:port the node will serve on; default DefaultListen.
	Listen string
	// Hostnames are extra DNS names or IP addresses the server certificate
	// is valid for, besides localhost, 127.0.0.1, ::1 and the listen host.
	Hostnames []string
	// Database is a PostgreSQL URL (without password), and DatabaseFile
	// a file holding one; both empty means an SQLite file in Dir. The
	// PostgreSQL database must be empty: Init creates its schema.
	Database, DatabaseFile string
}

// InitResult describes a node that Init created.
type InitResult struct {
	Config Config
	// AdminPassword is the password of the user "admin". It is stored only
	// hashed: show it once.
	AdminPassword string
	// Internal is the party-internal collection.
	Internal store.Collection
	// VerifierKey is the public key that verifies the party's checkpoints,
	// in golang.org/x/mod/sumdb/note format; partners pin it.
	VerifierKey string
}

// Init creates a new node in opts.Dir: configuration, certificate
// authority and server certificate, checkpoint-signing key, database, the
// party-internal collection and the user "admin" with a new password.
//
// It refuses (with an error wrapping ErrNodeExists) when the directory
// already holds a node. Files are built, and the database filled, in a
// staging directory, then moved into place with puente.json last, so a
// failed Init leaves no node behind and removes what it created; a
// PostgreSQL database it filled part way can be given to Init again.
func Init(ctx context.Context, opts InitOptions) (InitResult, error) {
	if opts.Listen == "" {
		opts.Listen = DefaultListen
	}
	cfg := Config{Party: opts.Party, Listen: opts.Listen, Database: opts.Database, DatabaseFile: opts.DatabaseFile}.withDefaults()
	if opts.Database != "" {
		if err := CheckDatabaseURL(opts.Database); err != nil {
			return InitResult{}, fmt.Errorf("init: %w", err)
		}
	}
	if opts.DatabaseFile != "" {
		abs, err := filepath.Abs(opts.DatabaseFile)
		if err != nil {
			return InitResult{}, fmt.Errorf("init: %w", err)
		}
		cfg.DatabaseFile = abs
		if _, err := cfg.databaseURL(); err != nil {
			return InitResult{}, fmt.Errorf("init: %w", err)
		}
	}
	if opts.Dir == "" {
		return InitResult{}, errors.New("init: no directory given")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return InitResult{}, fmt.Errorf("init: %w", err)
	}
	cfg.Dir = dir
	if err := cfg.Validate(); err != nil {
		return InitResult{}, fmt.Errorf("init: %w", err)
	}
	dnsNames, ips, err := serverNames(cfg.Listen, opts.Hostnames)
	if err != nil {
		return InitResult{}, fmt.Errorf("init: %w", err)
	}

	createdDir, err := makeNodeDir(dir)
	if err != nil {
		return InitResult{}, fmt.Errorf("init %s: %w", dir, err)
	}
	staging := filepath.Join(dir, stagingDir)
	if err := os.Mkdir(staging, 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			err = fmt.Errorf("%s exists: another init is running, or one failed; remove it and try again", staging)
		}
		return InitResult{}, fmt.Errorf("init %s: %w", dir, errors.Join(err, undoDir(dir, createdDir)))
	}
	res, moved, err := initFiles(ctx, cfg, staging, dnsNames, ips)
	if err != nil {
		for _, p := range moved {
			os.Remove(p) // best effort: these are the files we moved in
		}
		err = errors.Join(err, os.RemoveAll(staging), undoDir(dir, createdDir))
		return InitResult{}, fmt.Errorf("init %s: %w", dir, err)
	}
	return res, nil
}

// makeNodeDir creates dir (0700) or checks that the existing dir holds no
// node and none of the files Init writes. It reports whether it created
// the directory.
func makeNodeDir(dir string) (created bool, err error) {
	err = os.Mkdir(dir, 0o700)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("parent directory %s does not exist; create it first", filepath.Dir(dir))
	}
	if !errors.Is(err, fs.ErrExist) {
		return false, err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return false, err
	}
	if !fi.IsDir() {
		return false, fmt.Errorf("%s is not a directory", dir)
	}
	if _, err := os.Lstat(filepath.Join(dir, ConfigFile)); err == nil {
		return false, fmt.Errorf("%w (%s exists)", ErrNodeExists, ConfigFile)
	}
	cfg := Config{Party: "XXX"}.withDefaults()
	for _, name := range []string{cfg.Database, cfg.Database + "-wal", cfg.Database + "-shm", cfg.TLSCert, cfg.TLSKey, cfg.CACert, cfg.CAKey, cfg.SigningKey, cfg.SigningPub, cfg.ReceiptKey, cfg.ReceiptPub} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			return false, fmt.Errorf("%s already exists; use an empty directory", filepath.Join(dir, name))
		}
	}
	return false, nil
}

// undoDir removes dir if Init created it.
func undoDir(dir string, created bool) error {
	if !created {
		return nil
	}
	return os.RemoveAll(dir)
}

// initFiles writes every file of a new node into staging and fills its
// database, then moves the files into cfg.Dir, puente.json last. It returns the paths it moved, for the
// caller to remove on failure.
func initFiles(ctx context.Context, cfg Config, staging string, dnsNames []string, ips []net.IP) (_ InitResult, moved []string, _ error) {
	now := time.Now()
	in := func(name string) string { return filepath.Join(staging, name) }

	ca, err := newCA(cfg.Party, now)
	if err != nil {
		return InitResult{}, nil, err
	}
	srv, err := newServerCert(ca, cfg.Party, dnsNames, ips, now)
	if err != nil {
		return InitResult{}, nil, err
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, signingKeyName(cfg.Party))
	if err != nil {
		return InitResult{}, nil, fmt.Errorf("generate signing key: %w", err)
	}
	rkey, rpub, err := ledger.GenerateCosigner(rand.Reader, receiptKeyName(cfg.Party))
	if err != nil {
		return InitResult{}, nil, fmt.Errorf("generate receipt key: %w", err)
	}
	for _, f := range []struct {
		name string
		data []byte
		perm fs.FileMode
	}{
		{cfg.CACert, ca.certPEM, 0o644},
		{cfg.CAKey, ca.keyPEM, 0o600},
		{cfg.TLSCert, srv.certPEM, 0o644},
		{cfg.TLSKey, srv.keyPEM, 0o600},
		{cfg.SigningKey, []byte(skey + "\n"), 0o600},
		{cfg.SigningPub, []byte(vkey + "\n"), 0o644},
		{cfg.ReceiptKey, []byte(rkey + "\n"), 0o600},
		{cfg.ReceiptPub, []byte(rpub + "\n"), 0o644},
	} {
		if err := writeFile(in(f.name), f.data, f.perm); err != nil {
			return InitResult{}, nil, err
		}
	}

	password := auth.NewPassword()
	dsn, err := cfg.databaseURL()
	if err != nil {
		return InitResult{}, nil, err
	}
	// An SQLite database is made in the staging directory with the other
	// files; a PostgreSQL one is filled now too, once every file is
	// written, so that nothing but the moves below can fail after it.
	// Cut short before the end of this, an init leaves no node behind (no
	// puente.json) and a database it may be run again on
	// (checkNewDatabase); only a cut during the moves leaves a filled
	// database without its node.
	path := ""
	if dsn == "" {
		path = in(cfg.Database)
	}
	internal, err := initDatabase(ctx, cfg, path, password, now)
	if err != nil {
		return InitResult{}, nil, err
	}
	if err := writeFile(in(ConfigFile), cfg.marshal(), 0o600); err != nil {
		return InitResult{}, nil, err
	}

	// Move everything into place, the configuration last: until it is
	// there, the directory holds no node.
	entries, err := os.ReadDir(staging)
	if err != nil {
		return InitResult{}, nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.Name() != ConfigFile {
			names = append(names, e.Name())
		}
	}
	names = append(names, ConfigFile)
	for _, name := range names {
		if err := initFault("move " + name); err != nil {
			return InitResult{}, moved, err
		}
		dst := filepath.Join(cfg.Dir, name)
		if err := os.Rename(in(name), dst); err != nil {
			return InitResult{}, moved, err
		}
		moved = append(moved, dst)
	}
	if err := os.Remove(staging); err != nil {
		return InitResult{}, moved, err
	}
	if err := syncDir(cfg.Dir); err != nil {
		return InitResult{}, moved, err
	}
	return InitResult{Config: cfg, AdminPassword: password, Internal: internal, VerifierKey: vkey}, moved, nil
}

// initDatabase creates the database of a new node with its internal
// collection and its admin user.
func initDatabase(ctx context.Context, cfg Config, path, password string, now time.Time) (_ store.Collection, err error) {
	party := cfg.Party
	dsn, err := cfg.databaseURL()
	if err != nil {
		return store.Collection{}, err
	}
	var st store.Store
	if dsn != "" {
		if st, err = postgres.Open(ctx, dsn, postgres.Options{}); err != nil {
			return store.Collection{}, fmt.Errorf("open database: %w", err)
		}
	} else {
		// The database holds password and token hashes: create it 0600.
		// SQLite gives its -wal and -shm files the same mode.
		if err := writeFile(path, nil, 0o600); err != nil {
			return store.Collection{}, err
		}
		if st, err = sqlite.Open(ctx, path); err != nil {
			return store.Collection{}, fmt.Errorf("open database: %w", err)
		}
	}
	defer func() {
		if cerr := st.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close database: %w", cerr))
		}
	}()
	if err := checkNewDatabase(ctx, st, party); err != nil {
		return store.Collection{}, fmt.Errorf("the database %s %w; give an empty database (if an init of this node was cut short, it holds nothing else: create it again empty)", cfg.DatabaseName(), err)
	}
	internal, err := ensureInternal(ctx, st, party, now)
	if err != nil {
		return store.Collection{}, err
	}
	if err := initFault("database"); err != nil {
		return store.Collection{}, err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return store.Collection{}, err
	}
	admin := store.User{
		Name:         AdminUser,
		PasswordHash: hash,
		Roles:        []string{auth.RoleAdmin, auth.RoleLiaison, auth.RoleAnalyst},
		Created:      now,
	}
	if err := st.CreateUser(ctx, admin); err != nil {
		return store.Collection{}, fmt.Errorf("create user %s: %w", AdminUser, err)
	}
	return internal, nil
}

// checkNewDatabase returns an error unless st holds no node's data: no
// user, and no collection but the internal collection of party that an
// init cut short left behind.
func checkNewDatabase(ctx context.Context, st store.Store, party string) error {
	us, err := st.Users(ctx)
	if err != nil {
		return fmt.Errorf("list users: %w", err)
	}
	cs, err := st.Collections(ctx)
	if err != nil {
		return fmt.Errorf("list collections: %w", err)
	}
	aborted := len(cs) == 1 && cs[0].Internal && slices.Equal(cs[0].Members, []string{party})
	if len(us) > 0 || (len(cs) > 0 && !aborted) {
		return errors.New("already holds a node's data")
	}
	return nil
}

// ensureInternal returns the party-internal collection, creating it if the
// store has none.
func ensureInternal(ctx context.Context, st store.Store, party string, now time.Time) (store.Collection, error) {
	cs, err := st.Collections(ctx)
	if err != nil {
		return store.Collection{}, fmt.Errorf("list collections: %w", err)
	}
	if i := slices.IndexFunc(cs, func(c store.Collection) bool { return c.Internal }); i >= 0 {
		return cs[i], nil
	}
	c := store.Collection{
		ID:          newUUID(),
		Alias:       InternalAlias,
		Title:       party + " internal",
		Description: "Party-internal collection: its content never leaves " + party + ".",
		Internal:    true,
		Created:     now,
		Members:     []string{party},
	}
	if err := st.CreateCollection(ctx, c); err != nil {
		return store.Collection{}, fmt.Errorf("create internal collection: %w", err)
	}
	return c, nil
}

// writeFile creates a new file with perm, writes data and syncs it.
func writeFile(path string, data []byte, perm fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm) // the umask may have removed bits we want, like 0644's
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// syncDir makes the entries of dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// newUUID returns a random (version 4) UUID in lower case.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go ≥ 1.24)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
