package node

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  map[string]string
		want Config // Dir is filled in
	}{
		{
			name: "party only",
			file: `{"party": "MEX"}`,
			want: Config{Party: "MEX", Title: "Puente MEX", Listen: "127.0.0.1:8443", Database: "puente.db",
				TLSCert: "server.pem", TLSKey: "server-key.pem", CACert: "ca.pem", CAKey: "ca-key.pem",
				SigningKey: "signing.key", SigningPub: "signing.pub", ReceiptKey: "receipt.key", ReceiptPub: "receipt.pub"},
		},
		{
			name: "every field",
			file: `{"party": "USA", "title": "T", "listen": ":443", "database": "/var/lib/p.db",
				"tls_cert": "a", "tls_key": "b", "ca_cert": "c", "ca_key": "d", "signing_key": "e", "signing_pub": "f", "receipt_key": "g", "receipt_pub": "h"}`,
			want: Config{Party: "USA", Title: "T", Listen: ":443", Database: "/var/lib/p.db",
				TLSCert: "a", TLSKey: "b", CACert: "c", CAKey: "d", SigningKey: "e", SigningPub: "f", ReceiptKey: "g", ReceiptPub: "h"},
		},
		{
			name: "environment overrides the file",
			file: `{"party": "MEX", "listen": "127.0.0.1:1", "database": "a.db"}`,
			env:  map[string]string{"PUENTE_LISTEN": "127.0.0.1:2", "PUENTE_DATABASE": "b.db"},
			want: Config{Party: "MEX", Title: "Puente MEX", Listen: "127.0.0.1:2", Database: "b.db",
				TLSCert: "server.pem", TLSKey: "server-key.pem", CACert: "ca.pem", CAKey: "ca-key.pem",
				SigningKey: "signing.key", SigningPub: "signing.pub", ReceiptKey: "receipt.key", ReceiptPub: "receipt.pub"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "puente.json"), []byte(tc.file), 0o600)
			got, err := LoadConfig(dir, func(k string) string { return tc.env[k] })
			tc.want.Dir = dir
			if err != nil || got != tc.want {
				t.Errorf("LoadConfig = %+v, %v\nwant %+v", got, err, tc.want)
			}
		})
	}
}

func TestLoadConfigInvalid(t *testing.T) {
	tests := []struct {
		name, file string
		env        map[string]string
		want       string
	}{
		{"unknown field", `{"party": "MEX", "listen_addr": ":1"}`, nil, "unknown field"},
		{"wrong case of a field", `{"Party": "MEX", "partyx": 1}`, nil, "unknown field"},
		{"no party", `{}`, nil, "alpha-3"},
		{"lower-case party", `{"party": "mex"}`, nil, "alpha-3"},
		{"unassigned party", `{"party": "XYZ"}`, nil, "alpha-3"},
		{"bad listen", `{"party": "MEX", "listen": "localhost"}`, nil, "host:port"},
		{"bad listen from env", `{"party": "MEX"}`, map[string]string{"PUENTE_LISTEN": "x"}, "host:port"},
		{"wrong type", `{"party": 7}`, nil, "cannot unmarshal"},
		{"two objects", `{"party": "MEX"}{"party": "USA"}`, nil, "data after"},
		{"trailing garbage", `{"party": "MEX"} x`, nil, "data after"},
		{"not JSON", `party = "MEX"`, nil, "invalid character"},
		{"long title", `{"party": "MEX", "title": "` + strings.Repeat("x", 201) + `"}`, nil, "title"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "puente.json"), []byte(tc.file), 0o600)
			_, err := LoadConfig(dir, func(k string) string { return tc.env[k] })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("LoadConfig(%s) error = %v, want one containing %q", tc.file, err, tc.want)
			}
		})
	}
}

func TestLoadConfigNoNode(t *testing.T) {
	_, err := LoadConfig(t.TempDir(), nil)
	if !errors.Is(err, ErrNoNode) {
		t.Errorf("LoadConfig(empty dir) error = %v, want ErrNoNode", err)
	}
}

func TestConfigPath(t *testing.T) {
	c := Config{Dir: "/srv/mex"}
	if got := c.Path("ca.pem"); got != "/srv/mex/ca.pem" {
		t.Errorf("Path(ca.pem) = %q", got)
	}
	if got := c.Path("/etc/puente/ca.pem"); got != "/etc/puente/ca.pem" {
		t.Errorf("Path(/etc/puente/ca.pem) = %q", got)
	}
}
