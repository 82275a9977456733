package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ConfigFile is the name of a node's configuration file inside its
// directory. A directory holds a node exactly when it holds this file.
const ConfigFile = "puente.json"

// ErrNoNode means a directory holds no node (no puente.json).
var ErrNoNode = errors.New("no node in this directory")

// DefaultListen is the address a node listens on unless told otherwise:
// loopback only, so a new node is not reachable from the network before its
// operator decides.
const DefaultListen = "127.0.0.1:8443"

// Environment variables that override the configuration file. A command-line
// flag, where there is one, overrides both.
const (
	EnvListen   = "PUENTE_LISTEN"
	EnvDatabase = "PUENTE_DATABASE"
)

// Config is a node's configuration, read from DIR/puente.json. File names
// are relative to the node's directory unless absolute. Only the party is
// required; every other field has a default.
type Config struct {
	// Party is the ISO 3166-1 alpha-3 code of the node's party, in upper
	// case (MEX, USA).
	Party string `json:"party"`
	// Title names the node in TAXII discovery; default "Puente <PARTY>".
	Title string `json:"title,omitempty"`
	// Listen is the host:port to serve HTTPS on; default DefaultListen.
	Listen string `json:"listen,omitempty"`
	// Database is the SQLite database file (default "puente.db"), or a
	// PostgreSQL URL, postgres://user@host:port/dbname, best without its
	// password (see DatabaseFile).
	Database string `json:"database,omitempty"`
	// DatabaseFile, when set, names a file that holds the PostgreSQL URL,
	// password included, so that the password is in no configuration file
	// or command line; it takes the place of Database.
	DatabaseFile string `json:"database_file,omitempty"`
	// TLSCert and TLSKey are the server's certificate chain and private key
	// (PEM); default "server.pem" and "server-key.pem".
	TLSCert string `json:"tls_cert,omitempty"`
	TLSKey  string `json:"tls_key,omitempty"`
	// CACert and CAKey are the node's certificate authority (PEM), which
	// clients and partners trust; default "ca.pem" and "ca-key.pem".
	CACert string `json:"ca_cert,omitempty"`
	CAKey  string `json:"ca_key,omitempty"`
	// SigningKey and SigningPub hold the party's checkpoint-signing key in
	// golang.org/x/mod/sumdb/note format, the secret signer key and the
	// public verifier key; default "signing.key" and "signing.pub".
	SigningKey string `json:"signing_key,omitempty"`
	SigningPub string `json:"signing_pub,omitempty"`
	// ReceiptKey and ReceiptPub hold the party's receipt key: it co-signs
	// partners' checkpoints (tlog-cosignature v1); default "receipt.key"
	// and "receipt.pub".
	ReceiptKey string `json:"receipt_key,omitempty"`
	ReceiptPub string `json:"receipt_pub,omitempty"`

	// Dir is the node's directory, absolute. It is not part of the file.
	Dir string `json:"-"`
}

// withDefaults returns c with every empty optional field set.
func (c Config) withDefaults() Config {
	set := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	set(&c.Title, "Puente "+c.Party)
	set(&c.Listen, DefaultListen)
	if c.DatabaseFile == "" {
		set(&c.Database, "puente.db") // with a database_file, none: it is not used
	}
	set(&c.TLSCert, "server.pem")
	set(&c.TLSKey, "server-key.pem")
	set(&c.CACert, "ca.pem")
	set(&c.CAKey, "ca-key.pem")
	set(&c.SigningKey, "signing.key")
	set(&c.SigningPub, "signing.pub")
	set(&c.ReceiptKey, "receipt.key")
	set(&c.ReceiptPub, "receipt.pub")
	return c
}

// Path returns the path of a file named in the configuration: name itself
// when absolute, else name inside the node's directory.
func (c Config) Path(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(c.Dir, name)
}

// Validate reports the first problem with c, or nil.
func (c Config) Validate() error {
	if err := CheckParty(c.Party); err != nil {
		return err
	}
	if err := checkListen(c.Listen); err != nil {
		return err
	}
	if strings.TrimSpace(c.Title) == "" || len(c.Title) > 200 {
		return errors.New("title: want 1 to 200 characters")
	}
	for _, f := range []struct{ name, v string }{
		{"database", c.Database}, {"tls_cert", c.TLSCert}, {"tls_key", c.TLSKey},
		{"ca_cert", c.CACert}, {"ca_key", c.CAKey},
		{"signing_key", c.SigningKey}, {"signing_pub", c.SigningPub},
		{"receipt_key", c.ReceiptKey}, {"receipt_pub", c.ReceiptPub},
	} {
		if f.v == "" && !(f.name == "database" && c.DatabaseFile != "") {
			return fmt.Errorf("%s: empty file name", f.name)
		}
	}
	if !IsPostgresURL(c.Database) && strings.Contains(c.Database, "=") {
		return errors.New("database: an SQLite file name or a postgres:// URL; key=value settings are not supported")
	}
	return nil
}

// checkListen returns an error unless addr is host:port with a numeric
// port. An empty host means every interface.
func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: want host:port, like 127.0.0.1:8443", addr)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || strconv.FormatUint(n, 10) != port {
		return fmt.Errorf("listen address %q: port must be a number from 0 to 65535", addr)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("listen address %q: bad host", addr)
	}
	return nil
}

// LoadConfig reads and validates the configuration of the node in dir.
// Unknown fields are an error. Environment variables (PUENTE_LISTEN,
// PUENTE_DATABASE), read through getenv, override the file; getenv may be
// nil. It returns an error wrapping ErrNoNode when dir holds no node.
func LoadConfig(dir string, getenv func(string) string) (Config, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return Config{}, fmt.Errorf("load config: %w", err)
	}
	path := filepath.Join(dir, ConfigFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Config{}, fmt.Errorf("load config: %s: %w", dir, ErrNoNode)
	}
	if err != nil {
		return Config{}, fmt.Errorf("load config: %w", err)
	}
	c, err := parseConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("load config %s: %w", path, err)
	}
	if getenv != nil {
		if v := getenv(EnvListen); v != "" {
			c.Listen = v
		}
		if v := getenv(EnvDatabase); v != "" {
			c.Database, c.DatabaseFile = v, ""
		}
	}
	c = c.withDefaults()
	c.Dir = dir
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("load config %s: %w", path, err)
	}
	return c, nil
}

// parseConfig decodes one JSON object with only known fields.
func parseConfig(b []byte) (Config, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Config{}, errors.New("data after the JSON object")
	}
	return c, nil
}

// marshal returns the file form of c, every field written out.
func (c Config) marshal() []byte {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		panic(err) // a struct of strings always marshals
	}
	return append(b, '\n')
}
