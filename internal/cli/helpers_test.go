package cli

import (
	"net"
	"testing"
)

func TestURLHost(t *testing.T) {
	bound := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8443}
	tests := []struct{ listen, want string }{
		{"127.0.0.1:8443", "127.0.0.1:8443"},
		{"127.0.0.1:0", "127.0.0.1:8443"},
		{"0.0.0.0:8443", "localhost:8443"},
		{"[::]:8443", "localhost:8443"},
		{":8443", "localhost:8443"},
		{"[::1]:8443", "[::1]:8443"},
		{"puente.example:8443", "puente.example:8443"},
	}
	for _, tc := range tests {
		if got := urlHost(tc.listen, bound); got != tc.want {
			t.Errorf("urlHost(%q) = %q, want %q", tc.listen, got, tc.want)
		}
	}
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"mex", "mex"},
		{"./nodes/mex-1", "./nodes/mex-1"},
		{"/var/lib/puente", "/var/lib/puente"},
		{"my node", "'my node'"},
		{"it's", `'it'\''s'`},
		{"$HOME", "'$HOME'"},
		{"", "''"},
	}
	for _, tc := range tests {
		if got := quote(tc.in); got != tc.want {
			t.Errorf("quote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
