package taxii

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"
)

// A next token is opaque to clients and untrusted when it comes back (TAXII
// 2.1 appendix B). It holds the date_added of the last item served and is
// authenticated, with an HMAC, together with the endpoint, the collection,
// the filters (other than added_after and limit) and the caller. A token
// presented with other filters or by another caller is refused with 400.
// Rights are not stored in it: the handler evaluates them again on every
// request.
//
// Layout before base64url: version byte 1, 8 bytes of big-endian
// microseconds, 16 bytes of HMAC-SHA256 truncated.
const (
	cursorVersion = 1
	cursorLen     = 1 + 8 + 16
)

type cursorKey []byte

// binding is what a token is bound to.
func binding(endpoint, collection, principal string, f filter) []byte {
	var b strings.Builder
	for _, s := range []string{endpoint, collection, principal,
		strings.Join(f.ids, ","), strings.Join(f.types, ",")} {
		b.WriteString(s)
		b.WriteByte(0)
	}
	v := f.versions
	b.WriteString(strings.Join(v.Keys, ","))
	for _, flag := range []bool{v.First, v.Last, v.All, f.impossible} {
		if flag {
			b.WriteByte('1')
		} else {
			b.WriteByte('0')
		}
	}
	return []byte(b.String())
}

func (k cursorKey) mac(pos []byte, bind []byte) []byte {
	h := hmac.New(sha256.New, k)
	h.Write(pos)
	h.Write(bind)
	return h.Sum(nil)[:16]
}

// seal returns the token for resuming after the item added at last.
func (k cursorKey) seal(last time.Time, bind []byte) string {
	buf := make([]byte, 0, cursorLen)
	buf = append(buf, cursorVersion)
	buf = binary.BigEndian.AppendUint64(buf, uint64(last.UnixMicro()))
	buf = append(buf, k.mac(buf, bind)...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

// open checks a token against bind and returns the position it holds.
func (k cursorKey) open(tok string, bind []byte) (time.Time, error) {
	bad := badRequest("Query parameter next is not valid for this request: send the same filters as the request that returned it, or start again without next.")
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) != cursorLen || raw[0] != cursorVersion {
		return time.Time{}, bad
	}
	if !hmac.Equal(raw[9:], k.mac(raw[:9], bind)) {
		return time.Time{}, bad
	}
	return time.UnixMicro(int64(binary.BigEndian.Uint64(raw[1:9]))).UTC(), nil
}
