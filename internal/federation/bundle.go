package federation

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/puente-project/puente/internal/ledger"
	"github.com/puente-project/puente/internal/store"
)

// BundleFormat names the format of a peer bundle.
const BundleFormat = "puente-peer/v1"

// A Bundle is what one party gives another to be pinned as a peer: who
// it is, where its node is, and the only keys and certificate authority
// to trust for it. It holds no secret.
type Bundle struct {
	Format        string `json:"format"`
	Party         string `json:"party"`
	URL           string `json:"url"`
	CA            string `json:"ca"` // PEM
	CheckpointKey string `json:"checkpoint_key"`
	ReceiptKey    string `json:"receipt_key"`
}

// ParseBundle parses and checks a bundle: a party code, an https URL, one
// CA certificate, a checkpoint key and a receipt key that parse.
func ParseBundle(b []byte) (Bundle, error) {
	var bd Bundle
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&bd); err != nil {
		return Bundle{}, fmt.Errorf("peer bundle: %w", err)
	}
	if bd.Format != BundleFormat {
		return Bundle{}, fmt.Errorf("peer bundle: format %q, want %q", bd.Format, BundleFormat)
	}
	if len(bd.Party) != 3 || strings.ToUpper(bd.Party) != bd.Party || strings.IndexFunc(bd.Party, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		return Bundle{}, fmt.Errorf("peer bundle: party %q is not an ISO 3166-1 alpha-3 code", bd.Party)
	}
	u, err := url.Parse(bd.URL)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || !strings.HasSuffix(u.Path, "/") {
		return Bundle{}, fmt.Errorf("peer bundle: url %q: want https://host:port/", bd.URL)
	}
	if _, err := parseCA([]byte(bd.CA)); err != nil {
		return Bundle{}, fmt.Errorf("peer bundle: %w", err)
	}
	if _, err := note.NewVerifier(bd.CheckpointKey); err != nil {
		return Bundle{}, fmt.Errorf("peer bundle: checkpoint key: %w", err)
	}
	if _, err := ledger.NewCosignatureVerifier(bd.ReceiptKey); err != nil {
		return Bundle{}, fmt.Errorf("peer bundle: receipt key: %w", err)
	}
	return bd, nil
}

// Peer returns the bundle as a peer to pin.
func (b Bundle) Peer() store.Peer {
	return store.Peer{Party: b.Party, URL: b.URL, CA: []byte(b.CA), CheckpointKey: b.CheckpointKey, ReceiptKey: b.ReceiptKey}
}

// parseCA parses exactly one PEM certificate, which must be a CA.
func parseCA(b []byte) (*x509.Certificate, error) {
	block, rest := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("ca: want exactly one PEM certificate")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	if !c.IsCA {
		return nil, errors.New("ca: the certificate is not a certificate authority")
	}
	return c, nil
}

// ParseCA parses a peer's pinned CA certificate.
func ParseCA(b []byte) (*x509.Certificate, error) { return parseCA(b) }
