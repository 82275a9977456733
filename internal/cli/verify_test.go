package cli_test

import (
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/puente-project/puente/internal/cli"
	"github.com/puente-project/puente/internal/ledger"
)

// runCLI runs puente in-process and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out strings.Builder
	code := cli.Main(t.Context(), args, strings.NewReader(""), &out, io.Discard)
	return code, out.String()
}

// TestVerifyReceipt: a partner's receipt (its co-signature of the
// party's checkpoint) verifies with the party's key and the partner's
// receipt key, and not with another receipt key or once altered.
func TestVerifyReceipt(t *testing.T) {
	dir := t.TempDir()
	mex := filepath.Join(dir, "mex")
	for _, args := range [][]string{
		{"init", "--dir", mex, "--party", "MEX"},
		{"group", "create", "--dir", mex, "--name", "fentanyl", "--members", "MEX,USA", "--default-marking", "green"},
		{"user", "add", "--dir", mex, "--name", "ana"},
	} {
		if code, out := runCLI(t, args...); code != 0 {
			t.Fatalf("puente %v: %d %s", args, code, out)
		}
	}
	env := filepath.Join(dir, "env.json")
	os.WriteFile(env, []byte(`{"objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--0a0a0a0a-0000-4000-8000-000000000001","created":"2026-01-02T03:04:05.000Z","modified":"2026-01-02T03:04:05.000Z","pattern":"[ipv4-addr:value = '198.51.100.1']","pattern_type":"stix","valid_from":"2026-01-02T03:04:05Z"}]}`), 0o644)
	out := filepath.Join(dir, "log")
	for _, args := range [][]string{
		{"share", "--dir", mex, "--group", "fentanyl", "--user", "ana", env},
		{"ledger", "export", "--dir", mex, "--channel", "MEX-USA", "--out", out},
	} {
		if code, o := runCLI(t, args...); code != 0 {
			t.Fatalf("puente %v: %d %s", args, code, o)
		}
	}
	cp, err := os.ReadFile(filepath.Join(out, "checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	vkey, _ := os.ReadFile(filepath.Join(mex, "signing.pub"))
	v, err := note.NewVerifier(strings.TrimSpace(string(vkey)))
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(cp, note.VerifierList(v))
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	skey, rpub, _ := ledger.GenerateCosigner(rand.Reader, "puente-USA-receipts")
	usa, _ := ledger.ParseCosigner(skey)
	receipt, err := note.Sign(n, usa)
	if err != nil {
		t.Fatal(err)
	}
	_, otherPub, _ := ledger.GenerateCosigner(rand.Reader, "puente-USA-receipts")
	good, altered := write("receipt", string(receipt)), write("altered", strings.Replace(string(receipt), "puente/MEX-USA\n1\n", "puente/MEX-USA\n2\n", 1))
	key, other := write("usa-receipt.pub", rpub+"\n"), write("other.pub", otherPub+"\n")
	signing := filepath.Join(mex, "signing.pub")

	code, o := runCLI(t, "verify", "--key", signing, "--receipt", good, "--receipt-key", key)
	if code != 0 || !strings.Contains(o, "OK    receipt: puente-USA-receipts acknowledged all 1 entries of puente/MEX-USA") {
		t.Errorf("good receipt: %d %s", code, o)
	}
	for name, args := range map[string][]string{
		"other receipt key": {"verify", "--key", signing, "--receipt", good, "--receipt-key", other},
		"altered receipt":   {"verify", "--key", signing, "--receipt", altered, "--receipt-key", key},
	} {
		if code, o := runCLI(t, args...); code != 1 || !strings.Contains(o, "FAIL  receipt") {
			t.Errorf("%s: %d %s, want a FAIL line and exit 1", name, code, o)
		}
	}
}
