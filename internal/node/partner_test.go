package node

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/federation"
	"github.com/puente-project/puente/internal/marking"
)

// partnerClient is an HTTPS client presenting cert, trusting f's CA, as a
// partner node does (TLS 1.3).
func partnerClient(t *testing.T, f *fedNode, cert tls.Certificate) *http.Client {
	t.Helper()
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		MinVersion: tls.VersionTLS13, RootCAs: caPool(t, f), Certificates: []tls.Certificate{cert}}}}
}

func call(t *testing.T, c *http.Client, method, url string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(body))
	req.Header.Set("Accept", "application/taxii+json;version=2.1")
	req.Header.Set("Content-Type", "application/taxii+json;version=2.1")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestPartnerCannotWrite: a pinned partner, authenticated by its real
// client certificate over mutual TLS, reads what is released to it and
// nothing else, and can write nothing (G2): no objects, no deletes, no
// receipts for another channel, no look at the internal log, the other
// channels or the replicas.
func TestPartnerCannotWrite(t *testing.T) {
	nodes := startNodes(t, "MEX", "USA", "CAN")
	mex, usa, can := nodes["MEX"], nodes["USA"], nodes["CAN"]
	g := mex.group("fentanyl", "USA")
	id, raw := fedIndicator("MEX", 1, marking.TLPGreen)
	mex.share(g, raw)
	canGroup := can.group("arms", "MEX")
	_, canRaw := fedIndicator("CAN", 2, marking.TLPGreen)
	can.share(canGroup, canRaw)
	waitDelivered(t, mex, usa, 20*time.Second)
	waitDelivered(t, can, mex, 20*time.Second) // MEX now holds a replica of CAN's

	c := partnerClient(t, mex, usa.n.client)
	base := mex.url + "taxii2/api/collections/"
	if code, body := call(t, c, http.MethodGet, base+g+"/objects/", nil); code != 200 || !strings.Contains(body, id) {
		t.Fatalf("USA reading what MEX released to it: %d %s", code, body)
	}
	_, newRaw := fedIndicator("USA", 3, marking.TLPGreen)
	for _, x := range []struct {
		what, method, url string
		body              []byte
		want              []int
	}{
		{"add objects to a group it is in", http.MethodPost, base + g + "/objects/", []byte(`{"objects":[` + newRaw + `]}`), []int{403, 404}},
		{"delete an object", http.MethodDelete, base + g + "/objects/" + id + "/", nil, []int{403, 404}},
		{"read the internal collection", http.MethodGet, base + "internal/objects/", nil, []int{404}},
		{"read the replica of CAN's group", http.MethodGet, base + federation.ReplicaID("CAN", canGroup) + "/objects/", nil, []int{404}},
		{"read MEX's internal log", http.MethodGet, mex.url + "ledger/MEX-internal/checkpoint", nil, []int{404}},
		{"read MEX's channel to CAN", http.MethodGet, mex.url + "ledger/MEX-CAN/checkpoint", nil, []int{404}},
		{"post a receipt for CAN's channel", http.MethodPost, mex.url + "ledger/MEX-CAN/receipt", []byte("x\n"), []int{404}},
		{"read the metrics", http.MethodGet, mex.url + "metrics", nil, []int{403}},
	} {
		code, body := call(t, c, x.method, x.url, x.body)
		ok := false
		for _, w := range x.want {
			ok = ok || code == w
		}
		if !ok {
			t.Errorf("USA tried to %s: %d %s, want one of %v", x.what, code, body, x.want)
		}
	}
	if ids := usa.replicas("CAN"); len(ids) != 0 {
		t.Errorf("USA holds CAN's objects: %v", ids)
	}
}

// TestPartnerImpersonation: a certificate that names USA but is signed by
// CAN's CA (a pinned partner's, not USA's) is not USA; nor is one from an
// unpinned CA.
func TestPartnerImpersonation(t *testing.T) {
	nodes := startNodes(t, "MEX", "USA", "CAN")
	mex, can := nodes["MEX"], nodes["CAN"]
	g := mex.group("fentanyl", "USA")
	_, raw := fedIndicator("MEX", 1, marking.TLPGreen)
	mex.share(g, raw)

	caCAN, err := loadCA(can.n.Config())
	if err != nil {
		t.Fatal(err)
	}
	forged, err := newClientCert(caCAN, "USA", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(forged.certPEM, forged.keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if code, body := call(t, partnerClient(t, mex, cert), http.MethodGet, mex.url+"taxii2/api/collections/"+g+"/objects/", nil); code != http.StatusUnauthorized {
		t.Errorf("a USA certificate signed by CAN's CA: %d %s, want 401", code, body)
	}
	stranger := newFedNode(t, "USA", false) // same party code, its own unpinned CA
	code, _ := call(t, partnerClient(t, mex, stranger.n.client), http.MethodGet, mex.url+"taxii2/api/collections/"+g+"/objects/", nil)
	if code == http.StatusOK {
		t.Errorf("a USA certificate from an unpinned CA was accepted")
	}
	// TLS 1.2 with the real certificate: refused as a partner.
	c12 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{MaxVersion: tls.VersionTLS12,
		RootCAs: caPool(t, mex), Certificates: []tls.Certificate{nodes["USA"].n.client}}}}
	if code, _ := call(t, c12, http.MethodGet, mex.url+"taxii2/api/collections/"+g+"/objects/", nil); code == http.StatusOK {
		t.Errorf("a partner over TLS 1.2 was accepted")
	}
}
