package federation

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/puente-project/puente/internal/ledger"
)

func testBundle(t testing.TB) Bundle {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Puente MEX CA"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	_, vkey, _ := note.GenerateKey(rand.Reader, "puente-mex")
	_, rkey, _ := ledger.GenerateCosigner(rand.Reader, "puente-MEX-receipts")
	return Bundle{Format: BundleFormat, Party: "MEX", URL: "https://mex.example:8443/",
		CA: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), CheckpointKey: vkey, ReceiptKey: rkey}
}

func TestParseBundle(t *testing.T) {
	good := testBundle(t)
	b, _ := json.Marshal(good)
	if got, err := ParseBundle(b); err != nil || got != good {
		t.Fatalf("ParseBundle(good) = %+v, %v", got, err)
	}
	for name, mut := range map[string]func(*Bundle){
		"format":           func(b *Bundle) { b.Format = "puente-peer/v2" },
		"party lower case": func(b *Bundle) { b.Party = "mex" },
		"party too long":   func(b *Bundle) { b.Party = "MEXI" },
		"http":             func(b *Bundle) { b.URL = "http://mex.example/" },
		"url with query":   func(b *Bundle) { b.URL = "https://mex.example/?a=b" },
		"url without /":    func(b *Bundle) { b.URL = "https://mex.example" },
		"two CAs":          func(b *Bundle) { b.CA += b.CA },
		"no CA":            func(b *Bundle) { b.CA = "" },
		"checkpoint key":   func(b *Bundle) { b.CheckpointKey = "x" },
		"receipt key":      func(b *Bundle) { b.ReceiptKey = good.CheckpointKey },
	} {
		bad := good
		mut(&bad)
		raw, _ := json.Marshal(bad)
		if _, err := ParseBundle(raw); err == nil {
			t.Errorf("%s: ParseBundle accepted %s", name, raw)
		}
	}
	if _, err := ParseBundle([]byte(strings.Replace(string(b), `"format"`, `"extra":1,"format"`, 1))); err == nil {
		t.Error("ParseBundle accepted an unknown member")
	}
}

func TestReplicaID(t *testing.T) {
	a, b := ReplicaID("USA", "g1"), ReplicaID("USA", "g2")
	if a == b || a != ReplicaID("USA", "g1") || a == ReplicaID("CAN", "g1") || len(a) != 36 || a[14] != '8' {
		t.Errorf("ReplicaID: %s %s", a, b)
	}
}

// FuzzParseBundle: a bundle that parses has a valid party, URL, CA and
// keys; nothing panics.
func FuzzParseBundle(f *testing.F) {
	b, _ := json.Marshal(testBundle(f))
	f.Add(b)
	f.Add([]byte(`{"format":"puente-peer/v1","party":"MEX"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		bd, err := ParseBundle(raw)
		if err != nil {
			return
		}
		if len(bd.Party) != 3 || !strings.HasPrefix(bd.URL, "https://") {
			t.Fatalf("accepted %+v", bd)
		}
		if _, err := ParseCA([]byte(bd.CA)); err != nil {
			t.Fatalf("accepted a bundle whose CA does not parse: %v", err)
		}
	})
}
