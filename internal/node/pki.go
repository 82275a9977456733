package node

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

const (
	caValidity     = 10 * 365 * 24 * time.Hour
	serverValidity = 2 * 365 * 24 * time.Hour
	// clockSkew backdates certificates so that peers whose clocks run a
	// little late accept them at once.
	clockSkew = time.Hour
)

// keyPair is a certificate and its private key, parsed and in PEM.
type keyPair struct {
	certPEM, keyPEM []byte
	cert            *x509.Certificate
	key             *ecdsa.PrivateKey
}

// newCA returns a self-signed ECDSA P-256 certificate authority for party.
func newCA(party string, now time.Time) (keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return keyPair{}, fmt.Errorf("generate CA key: %w", err)
	}
	name := pkix.Name{Organization: []string{"Puente " + party}, CommonName: "Puente " + party + " CA"}
	tmpl := &x509.Certificate{
		SerialNumber:          serialNumber(),
		Subject:               name,
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	return sign(tmpl, tmpl, key, key)
}

// newServerCert returns a server certificate signed by ca, valid for the
// given DNS names and IP addresses.
func newServerCert(ca keyPair, party string, dnsNames []string, ips []net.IP, now time.Time) (keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return keyPair{}, fmt.Errorf("generate server key: %w", err)
	}
	cn := "localhost"
	if len(dnsNames) > 0 {
		cn = dnsNames[0]
	}
	tmpl := &x509.Certificate{
		SerialNumber: serialNumber(),
		Subject:      pkix.Name{Organization: []string{"Puente " + party}, CommonName: cn},
		NotBefore:    now.Add(-clockSkew),
		NotAfter:     now.Add(serverValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     dnsNames,
		IPAddresses:  ips,
	}
	return sign(tmpl, ca.cert, key, ca.key)
}

func sign(tmpl, parent *x509.Certificate, key, parentKey *ecdsa.PrivateKey) (keyPair, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return keyPair{}, fmt.Errorf("create certificate %q: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return keyPair{}, fmt.Errorf("parse new certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return keyPair{}, fmt.Errorf("encode private key: %w", err)
	}
	return keyPair{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		cert:    cert,
		key:     key,
	}, nil
}

// serialNumber returns a random positive 128-bit serial number.
func serialNumber() *big.Int {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand, Go ≥ 1.24)
	b[0] &= 0x7f
	b[0] |= 0x01 // never zero, never negative
	return new(big.Int).SetBytes(b)
}

// serverNames returns the DNS names and IP addresses a new node's server
// certificate is valid for: the loopback names, the host of the listen
// address (unless it means every interface) and the extra host names.
func serverNames(listen string, hostnames []string) (dns []string, ips []net.IP, err error) {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, nil, fmt.Errorf("listen address %q: %w", listen, err)
	}
	all := append([]string{"localhost", "127.0.0.1", "::1"}, hostnames...)
	if host != "" {
		all = append(all, host)
	}
	for _, h := range all {
		if ip := net.ParseIP(h); ip != nil {
			if ip.IsUnspecified() {
				continue
			}
			if !slices.ContainsFunc(ips, ip.Equal) {
				ips = append(ips, ip)
			}
			continue
		}
		h = strings.ToLower(h)
		if err := checkHostname(h); err != nil {
			return nil, nil, err
		}
		if !slices.Contains(dns, h) {
			dns = append(dns, h)
		}
	}
	return dns, ips, nil
}

// checkHostname returns an error unless h is a DNS name (RFC 1123 labels).
func checkHostname(h string) error {
	bad := fmt.Errorf("host name %q: want a DNS name like puente.example.org or an IP address", h)
	if h == "" || len(h) > 253 {
		return bad
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return bad
		}
		for _, c := range []byte(label) {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return bad
			}
		}
	}
	return nil
}

// receiptKeyName is the key name of a party's receipt key.
func receiptKeyName(party string) string { return "puente-" + party + "-receipts" }

// signingKeyName is the note key name of a party's checkpoint-signing key.
func signingKeyName(party string) string {
	return "puente-" + strings.ToLower(party)
}

// tokenKey derives the key that authenticates TAXII pagination tokens from
// the party's signing key, so that tokens survive a restart without another
// secret to manage: HMAC-SHA256(private key, "puente next-token v1").
func tokenKey(signerKey string) ([]byte, error) {
	// A signer key is "PRIVATE+KEY+<name>+<hash>+<base64(alg ‖ key)>"; the
	// name holds no '+', the base64 may.
	rest, ok := strings.CutPrefix(signerKey, "PRIVATE+KEY+")
	fields := strings.SplitN(rest, "+", 3)
	if !ok || len(fields) != 3 {
		return nil, fmt.Errorf("malformed signing key")
	}
	raw, err := base64.StdEncoding.DecodeString(fields[2])
	if err != nil || len(raw) != 33 || raw[0] != 1 {
		return nil, fmt.Errorf("malformed signing key: want an Ed25519 key")
	}
	m := hmac.New(sha256.New, raw[1:])
	m.Write([]byte("puente next-token v1"))
	return m.Sum(nil), nil
}

// loadSigningKey parses the signer and verifier keys of a node and checks
// that they are one pair.
func loadSigningKey(skey, vkey string) (note.Signer, note.Verifier, error) {
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, nil, fmt.Errorf("signing key: %w", err)
	}
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		return nil, nil, fmt.Errorf("signing public key: %w", err)
	}
	if signer.Name() != verifier.Name() || signer.KeyHash() != verifier.KeyHash() {
		return nil, nil, fmt.Errorf("signing key and signing public key are not one pair")
	}
	// Key hashes are 32 bits; check the pair for real.
	msg := []byte("puente key check\n")
	sig, err := signer.Sign(msg)
	if err != nil || !verifier.Verify(msg, sig) {
		return nil, nil, fmt.Errorf("signing key and signing public key are not one pair")
	}
	return signer, verifier, nil
}

// LoadSigner reads the checkpoint-signing key pair of the node whose
// configuration is cfg, for commands that sign checkpoints on demand.
func LoadSigner(cfg Config) (note.Signer, note.Verifier, error) {
	skey, err := readKeyFile(cfg.Path(cfg.SigningKey))
	if err != nil {
		return nil, nil, err
	}
	vkey, err := readKeyFile(cfg.Path(cfg.SigningPub))
	if err != nil {
		return nil, nil, err
	}
	return loadSigningKey(skey, vkey)
}

// newClientCert makes the node's client certificate for partners: its
// common name is the party code.
func newClientCert(ca keyPair, party string, now time.Time) (keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return keyPair{}, fmt.Errorf("generate client key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serialNumber(),
		Subject:      pkix.Name{Organization: []string{"Puente " + party}, CommonName: party},
		NotBefore:    now.Add(-clockSkew),
		NotAfter:     now.Add(clientValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return sign(tmpl, ca.cert, key, ca.key)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only for values made by this package
	}
	return b
}
