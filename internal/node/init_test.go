package node

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/auth"
)

// initNode creates a node for party in a new temporary directory.
func initNode(t *testing.T, party string, hostnames ...string) InitResult {
	t.Helper()
	dir := filepath.Join(t.TempDir(), strings.ToLower(party))
	res, err := Init(t.Context(), InitOptions{Dir: dir, Party: party, Listen: "127.0.0.1:0", Hostnames: hostnames})
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	return res
}

func TestInit(t *testing.T) {
	t.Parallel()
	res := initNode(t, "MEX", "puente.sre.example", "192.0.2.7")
	dir := res.Config.Dir

	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("node directory mode = %v, %v; want 0700", fi.Mode().Perm(), err)
	}
	wantModes := map[string]fs.FileMode{
		"puente.json": 0o600, "puente.db": 0o600,
		"ca.pem": 0o644, "ca-key.pem": 0o600,
		"server.pem": 0o644, "server-key.pem": 0o600,
		"signing.key": 0o600, "signing.pub": 0o644, "receipt.key": 0o600, "receipt.pub": 0o644,
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		want, ok := wantModes[e.Name()]
		if !ok {
			t.Errorf("unexpected file %s in the node directory", e.Name())
			continue
		}
		fi, _ := e.Info()
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode = %v, want %v", e.Name(), fi.Mode().Perm(), want)
		}
		delete(wantModes, e.Name())
	}
	for name := range wantModes {
		t.Errorf("missing file %s", name)
	}

	cfg, err := LoadConfig(dir, nil)
	if err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	if cfg != res.Config {
		t.Errorf("LoadConfig = %+v, want %+v", cfg, res.Config)
	}
	if cfg.Party != "MEX" || cfg.Title != "Puente MEX" || cfg.Listen != "127.0.0.1:0" {
		t.Errorf("config = %+v", cfg)
	}

	ca := readCert(t, filepath.Join(dir, "ca.pem"))
	srv := readCert(t, filepath.Join(dir, "server.pem"))
	if !ca.IsCA || ca.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("CA: IsCA = %v, key = %v; want an ECDSA CA", ca.IsCA, ca.PublicKeyAlgorithm)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	for _, name := range []string{"localhost", "127.0.0.1", "::1", "puente.sre.example", "192.0.2.7"} {
		if _, err := srv.Verify(x509.VerifyOptions{DNSName: name, Roots: roots}); err != nil {
			t.Errorf("server certificate does not verify for %s: %v", name, err)
		}
	}
	if _, err := srv.Verify(x509.VerifyOptions{DNSName: "other.example", Roots: roots}); err == nil {
		t.Errorf("server certificate verifies for other.example")
	}
	if d := time.Until(srv.NotAfter); d < 700*24*time.Hour || d > 740*24*time.Hour {
		t.Errorf("server certificate valid for %v more, want about 2 years", d)
	}

	if !strings.HasPrefix(res.VerifierKey, "puente-mex+") {
		t.Errorf("VerifierKey = %q, want the key name puente-mex", res.VerifierKey)
	}
	if !res.Internal.Internal || res.Internal.Alias != "internal" || res.Internal.Title != "MEX internal" {
		t.Errorf("internal collection = %+v", res.Internal)
	}

	st, err := OpenStore(t.Context(), cfg)
	if err != nil {
		t.Fatalf("OpenStore: %v", err)
	}
	defer st.Close()
	c, err := st.Collection(t.Context(), "internal")
	if err != nil || c.ID != res.Internal.ID || !c.Internal {
		t.Errorf("Collection(internal) = %+v, %v; want %+v", c, err, res.Internal)
	}
	admin, err := st.User(t.Context(), "admin")
	if err != nil {
		t.Fatalf("User(admin): %v", err)
	}
	if !slices.Equal(admin.Roles, []string{"admin", "liaison", "analyst"}) {
		t.Errorf("admin roles = %v", admin.Roles)
	}
	if ok, err := auth.VerifyPassword(admin.PasswordHash, res.AdminPassword); !ok || err != nil {
		t.Errorf("the returned admin password does not match the stored hash: %v, %v", ok, err)
	}
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		t.Fatalf("%s: no PEM certificate", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestInitRefusesExistingNode(t *testing.T) {
	t.Parallel()
	res := initNode(t, "MEX")
	before, _ := os.ReadFile(filepath.Join(res.Config.Dir, "signing.key"))
	_, err := Init(t.Context(), InitOptions{Dir: res.Config.Dir, Party: "USA"})
	if !errors.Is(err, ErrNodeExists) {
		t.Errorf("second Init error = %v, want ErrNodeExists", err)
	}
	after, _ := os.ReadFile(filepath.Join(res.Config.Dir, "signing.key"))
	if string(before) != string(after) {
		t.Errorf("second Init changed signing.key")
	}
	if _, err := os.Stat(filepath.Join(res.Config.Dir, stagingDir)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("staging directory left behind: %v", err)
	}
}

func TestInitExistingEmptyDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := Init(t.Context(), InitOptions{Dir: dir, Party: "USA"}); err != nil {
		t.Fatalf("Init into an existing empty directory: %v", err)
	}
	if _, err := LoadConfig(dir, nil); err != nil {
		t.Errorf("LoadConfig: %v", err)
	}
}

func TestInitRefusesToOverwrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ca.pem"), []byte("mine"), 0o644)
	_, err := Init(t.Context(), InitOptions{Dir: dir, Party: "USA"})
	if err == nil || !strings.Contains(err.Error(), "ca.pem already exists") {
		t.Errorf("Init into a directory with ca.pem: error = %v, want a refusal", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "ca.pem")); string(b) != "mine" {
		t.Errorf("Init changed an existing file")
	}
}

func TestInitInvalidOptions(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	tests := []struct {
		name string
		opts InitOptions
		want string
	}{
		{"no dir", InitOptions{Party: "MEX"}, "no directory"},
		{"lower-case party", InitOptions{Dir: "n", Party: "mex"}, "alpha-3"},
		{"two-letter party", InitOptions{Dir: "n", Party: "MX"}, "alpha-3"},
		{"empty party", InitOptions{Dir: "n"}, "alpha-3"},
		{"listen without port", InitOptions{Dir: "n", Party: "MEX", Listen: "127.0.0.1"}, "host:port"},
		{"listen with bad port", InitOptions{Dir: "n", Party: "MEX", Listen: "127.0.0.1:99999"}, "port"},
		{"bad hostname", InitOptions{Dir: "n", Party: "MEX", Hostnames: []string{"bad_name"}}, "host name"},
		{"hostname with space", InitOptions{Dir: "n", Party: "MEX", Hostnames: []string{"a b"}}, "host name"},
		{"missing parent", InitOptions{Dir: "missing/n", Party: "MEX"}, "does not exist"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.opts.Dir != "" {
				tc.opts.Dir = filepath.Join(parent, tc.opts.Dir)
			}
			_, err := Init(t.Context(), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Init(%+v) error = %v, want one containing %q", tc.opts, err, tc.want)
			}
			if _, err := os.Stat(filepath.Join(parent, "n")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Init(%+v) failed but left the directory behind", tc.opts)
				os.RemoveAll(filepath.Join(parent, "n"))
			}
		})
	}
}

// setInitFault makes Init fail at step until the test ends. Tests that
// call it must not be parallel.
func setInitFault(t *testing.T, step string) {
	old := initFault
	initFault = func(s string) error {
		if s == step {
			return errors.New("injected fault")
		}
		return nil
	}
	t.Cleanup(func() { initFault = old })
}

func TestInitFailureLeavesNoNode(t *testing.T) {
	for _, step := range []string{"move ca.pem", "move puente.json"} {
		t.Run("new dir/"+step, func(t *testing.T) {
			setInitFault(t, step)
			dir := filepath.Join(t.TempDir(), "n")
			if _, err := Init(t.Context(), InitOptions{Dir: dir, Party: "MEX"}); err == nil {
				t.Fatalf("Init succeeded despite the fault")
			}
			if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("failed Init left %s behind (%v)", dir, err)
			}
		})
		t.Run("existing dir/"+step, func(t *testing.T) {
			setInitFault(t, step)
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("keep me"), 0o644)
			if _, err := Init(t.Context(), InitOptions{Dir: dir, Party: "MEX"}); err == nil {
				t.Fatalf("Init succeeded despite the fault")
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 || entries[0].Name() != "notes.txt" {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("after a failed Init the directory holds %v, want only notes.txt", names)
			}
			// A later Init works.
			setInitFault(t, "")
			if _, err := Init(t.Context(), InitOptions{Dir: dir, Party: "MEX"}); err != nil {
				t.Errorf("Init after a failed Init: %v", err)
			}
		})
	}
}

func TestServerNames(t *testing.T) {
	tests := []struct {
		listen    string
		hostnames []string
		wantDNS   []string
		wantIPs   []string
	}{
		{"127.0.0.1:8443", nil, []string{"localhost"}, []string{"127.0.0.1", "::1"}},
		{"0.0.0.0:8443", nil, []string{"localhost"}, []string{"127.0.0.1", "::1"}},
		{"[::]:8443", nil, []string{"localhost"}, []string{"127.0.0.1", "::1"}},
		{":8443", []string{"Puente.Example.ORG"}, []string{"localhost", "puente.example.org"}, []string{"127.0.0.1", "::1"}},
		{"10.1.2.3:443", []string{"a.example", "a.example", "10.1.2.3"}, []string{"localhost", "a.example"}, []string{"127.0.0.1", "::1", "10.1.2.3"}},
		{"node.example:443", nil, []string{"localhost", "node.example"}, []string{"127.0.0.1", "::1"}},
	}
	for _, tc := range tests {
		dns, ips, err := serverNames(tc.listen, tc.hostnames)
		var gotIPs []string
		for _, ip := range ips {
			gotIPs = append(gotIPs, ip.String())
		}
		if err != nil || !slices.Equal(dns, tc.wantDNS) || !slices.Equal(gotIPs, tc.wantIPs) {
			t.Errorf("serverNames(%q, %q) = %v, %v, %v; want %v, %v", tc.listen, tc.hostnames, dns, gotIPs, err, tc.wantDNS, tc.wantIPs)
		}
	}
}

func TestCheckHostname(t *testing.T) {
	for _, h := range []string{"localhost", "a.example", "x-1.y-2.example", strings.Repeat("a", 63) + ".example"} {
		if err := checkHostname(h); err != nil {
			t.Errorf("checkHostname(%q) = %v, want nil", h, err)
		}
	}
	for _, h := range []string{"", "-a.example", "a-.example", "a..example", "a_b.example", "*.example", strings.Repeat("a", 64) + ".example", "a.example."} {
		if err := checkHostname(h); err == nil {
			t.Errorf("checkHostname(%q) = nil, want an error", h)
		}
	}
}

func TestNewUUID(t *testing.T) {
	u := newUUID()
	if len(u) != 36 || u[14] != '4' || !strings.ContainsRune("89ab", rune(u[19])) || u != strings.ToLower(u) {
		t.Errorf("newUUID() = %q, want a lower-case version 4 UUID", u)
	}
	if newUUID() == u {
		t.Errorf("two UUIDs are equal")
	}
}

func TestTokenKey(t *testing.T) {
	t.Parallel()
	a, b := initNode(t, "MEX"), initNode(t, "USA")
	ka, err := tokenKey(readLine(t, a.Config.Path("signing.key")))
	if err != nil || len(ka) != 32 {
		t.Fatalf("tokenKey = %x, %v; want 32 bytes", ka, err)
	}
	ka2, _ := tokenKey(readLine(t, a.Config.Path("signing.key")))
	kb, _ := tokenKey(readLine(t, b.Config.Path("signing.key")))
	if string(ka) != string(ka2) || string(ka) == string(kb) {
		t.Errorf("tokenKey is not a function of the signing key alone")
	}
	for _, bad := range []string{"", "PRIVATE+KEY+x+00000000+AAAA", "PRIVATE+KEY+x+00000000+!!"} {
		if _, err := tokenKey(bad); err == nil {
			t.Errorf("tokenKey(%q) succeeded", bad)
		}
	}
}

func readLine(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(string(b), "\n")
}
