package node

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/puente-project/puente/internal/auth"
	"github.com/puente-project/puente/internal/federation"
)

// Client certificate files: the node's identity towards partners (mutual
// TLS), signed by its CA, made when first needed.
const (
	clientCertFile = "client.pem"
	clientKeyFile  = "client-key.pem"
)

// clientValidity is how long a node's client certificate is valid.
const clientValidity = 2 * 365 * 24 * time.Hour

// loadClientCert loads the node's client certificate, making it with the
// node's CA if there is none yet. Its common name is the party code; a
// partner accepts it only when it chains to the CA it pinned for that
// party.
func loadClientCert(cfg Config, now time.Time) (tls.Certificate, error) {
	certPath, keyPath := cfg.Path(clientCertFile), cfg.Path(clientKeyFile)
	c, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return tls.Certificate{}, fmt.Errorf("load client certificate: %w", err)
	}
	ca, err := loadCA(cfg)
	if err != nil {
		return tls.Certificate{}, err
	}
	kp, err := newClientCert(ca, cfg.Party, now)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := writeFile(keyPath, kp.keyPEM, 0o600); err != nil && !errors.Is(err, fs.ErrExist) {
		return tls.Certificate{}, err
	}
	if err := writeFile(certPath, kp.certPEM, 0o644); err != nil && !errors.Is(err, fs.ErrExist) {
		return tls.Certificate{}, err
	}
	return tls.LoadX509KeyPair(certPath, keyPath)
}

// loadCA reads the node's CA certificate and key.
func loadCA(cfg Config) (keyPair, error) {
	certPEM, err := os.ReadFile(cfg.Path(cfg.CACert))
	if err != nil {
		return keyPair{}, fmt.Errorf("load CA: %w", err)
	}
	keyPEM, err := os.ReadFile(cfg.Path(cfg.CAKey))
	if err != nil {
		return keyPair{}, fmt.Errorf("load CA key: %w", err)
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return keyPair{}, errors.New("load CA: not PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return keyPair{}, fmt.Errorf("load CA: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return keyPair{}, fmt.Errorf("load CA key: %w", err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return keyPair{}, errors.New("load CA key: not an ECDSA key")
	}
	return keyPair{certPEM: certPEM, keyPEM: keyPEM, cert: cert, key: key}, nil
}

// PeerBundle returns this node's peer bundle, for partners to pin: the
// party, the URL partners reach it at, its CA, checkpoint key and receipt
// key.
func PeerBundle(cfg Config, url string) (federation.Bundle, error) {
	ca, err := os.ReadFile(cfg.Path(cfg.CACert))
	if err != nil {
		return federation.Bundle{}, err
	}
	ck, err := readKeyFile(cfg.Path(cfg.SigningPub))
	if err != nil {
		return federation.Bundle{}, err
	}
	rk, err := readKeyFile(cfg.Path(cfg.ReceiptPub))
	if err != nil {
		return federation.Bundle{}, fmt.Errorf("%w (nodes made before receipt keys existed have none; make a new node)", err)
	}
	if !strings.HasSuffix(url, "/") {
		url += "/"
	}
	b := federation.Bundle{Format: federation.BundleFormat, Party: cfg.Party, URL: url, CA: string(ca), CheckpointKey: ck, ReceiptKey: rk}
	if _, err := federation.ParseBundle(mustJSON(b)); err != nil {
		return federation.Bundle{}, err
	}
	return b, nil
}

// serverTLS returns the TLS configuration of the node's listener: the
// base configuration plus client certificates, which only pinned
// partners' CAs can sign (read from the database at each handshake, so
// that pinning takes effect at once).
func (n *Node) serverTLS() *tls.Config {
	base := n.TLSConfig()
	base.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		c := n.TLSConfig()
		c.ClientAuth = tls.VerifyClientCertIfGiven
		pool := x509.NewCertPool()
		peers, err := n.st.Peers(hello.Context())
		if err != nil {
			return nil, err
		}
		for _, p := range peers {
			if ca, err := federation.ParseCA(p.CA); err == nil {
				pool.AddCert(ca)
			}
		}
		c.ClientCAs = pool
		return c, nil
	}
	return base
}

// authenticate returns who a request acts for: a pinned partner, by its
// client certificate, or a local user, by password or token.
func (n *Node) authenticate(r *http.Request) (auth.Principal, error) {
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		return n.partner(r.Context(), r.TLS)
	}
	return n.authn.Authenticate(r)
}

// partner returns the partner principal of a verified client certificate:
// its common name is a pinned party, and its chain ends at the CA pinned
// for that party (not merely at some pinned CA: one partner's CA cannot
// vouch for another party). Node-to-node traffic is TLS 1.3.
func (n *Node) partner(ctx context.Context, cs *tls.ConnectionState) (auth.Principal, error) {
	if len(cs.VerifiedChains) == 0 || cs.Version < tls.VersionTLS13 {
		return auth.Principal{}, fmt.Errorf("client certificate not verified or TLS below 1.3: %w", auth.ErrUnauthenticated)
	}
	party := cs.PeerCertificates[0].Subject.CommonName
	p, err := n.st.Peer(ctx, party)
	if err != nil {
		return auth.Principal{}, fmt.Errorf("client certificate of unpinned party %q: %w", party, auth.ErrUnauthenticated)
	}
	ca, err := federation.ParseCA(p.CA)
	if err != nil {
		return auth.Principal{}, fmt.Errorf("pinned CA of %s: %w", party, err)
	}
	for _, chain := range cs.VerifiedChains {
		if chain[len(chain)-1].Equal(ca) {
			return auth.Principal{Name: party, Party: party}, nil
		}
	}
	return auth.Principal{}, fmt.Errorf("client certificate for %s not signed by its pinned CA: %w", party, auth.ErrUnauthenticated)
}
