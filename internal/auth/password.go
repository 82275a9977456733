package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// ErrMalformedHash is wrapped by the errors of VerifyPassword when the stored
// hash is not a valid argon2id PHC string. It is a server fault (a damaged
// database), never the user's.
var ErrMalformedHash = errors.New("malformed password hash")

// argon2Params are the argon2id cost parameters written in a PHC string.
type argon2Params struct {
	memory  uint32 // KiB
	time    uint32 // passes
	threads uint8
}

// defaultParams are the parameters HashPassword uses: 64 MiB, two passes,
// two lanes (RFC 9106 §4, second recommended option, with t=2).
var defaultParams = argon2Params{memory: 64 * 1024, time: 2, threads: 2}

const (
	saltLen = 16
	keyLen  = 32

	// Bounds accepted when parsing, so that a damaged or hostile hash cannot
	// make one verification take gigabytes or minutes.
	maxMemory  = 1 << 20 // KiB, 1 GiB
	maxTime    = 64
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
)

// HashPassword returns the argon2id hash of pw in PHC string format:
//
//	$argon2id$v=19$m=65536,t=2,p=2$<salt>$<hash>
//
// with salt and hash in unpadded standard base64. It takes tens of
// milliseconds and 64 MiB of memory on purpose.
func HashPassword(pw string) (string, error) {
	if pw == "" {
		return "", errors.New("hash password: empty password")
	}
	return hashPassword(pw, defaultParams), nil
}

func hashPassword(pw string, p argon2Params) string {
	salt := make([]byte, saltLen)
	rand.Read(salt) // never fails (crypto/rand, Go ≥ 1.24)
	key := argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, keyLen)
	return encodePHC(p, salt, key)
}

func encodePHC(p argon2Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.time, p.threads,
		base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(key))
}

// VerifyPassword reports whether pw matches hash, an argon2id PHC string as
// written by HashPassword. The cost parameters are read from hash, so hashes
// made with older parameters keep working. The comparison takes constant
// time. An error (wrapping ErrMalformedHash) means hash itself is invalid.
func VerifyPassword(hash, pw string) (bool, error) {
	p, salt, want, err := parsePHC(hash)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pw), salt, p.time, p.memory, p.threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// parsePHC parses an argon2id PHC string strictly: one spelling only, the
// fields in order, decimal numbers without leading zeros or signs, and
// canonical unpadded base64.
func parsePHC(s string) (p argon2Params, salt, key []byte, err error) {
	bad := func(format string, args ...any) (argon2Params, []byte, []byte, error) {
		return argon2Params{}, nil, nil, fmt.Errorf("auth: %w: %s", ErrMalformedHash, fmt.Sprintf(format, args...))
	}
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return bad("want 5 fields separated by '$'")
	}
	if parts[1] != "argon2id" {
		return bad("algorithm is not argon2id")
	}
	if parts[2] != "v=19" {
		return bad("version is not 19")
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return bad("want parameters m, t and p")
	}
	var nums [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(params[i], name)
		if !ok {
			return bad("parameter %d is not %s", i+1, strings.TrimSuffix(name, "="))
		}
		n, err := parseDecimal(v)
		if err != nil {
			return bad("parameter %s%s", name, err)
		}
		nums[i] = n
	}
	m, t, th := nums[0], nums[1], nums[2]
	switch {
	case th < 1 || th > 255:
		return bad("p out of range")
	case t < 1 || t > maxTime:
		return bad("t out of range")
	case m < 8*th || m > maxMemory:
		return bad("m out of range")
	}
	enc := base64.RawStdEncoding.Strict()
	salt, err = enc.DecodeString(parts[4])
	if err != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return bad("bad salt")
	}
	key, err = enc.DecodeString(parts[5])
	if err != nil || len(key) < minKeyLen || len(key) > maxKeyLen {
		return bad("bad hash")
	}
	p = argon2Params{memory: uint32(m), time: uint32(t), threads: uint8(th)}
	// Strict base64 still accepts some spellings that re-encode differently
	// (for example line breaks); demand the one canonical form.
	if encodePHC(p, salt, key) != s {
		return bad("not in canonical form")
	}
	return p, salt, key, nil
}

// parseDecimal parses a decimal number without sign or leading zeros.
func parseDecimal(s string) (uint64, error) {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return 0, errors.New("is not a canonical decimal number")
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, errors.New("is not a decimal number")
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, errors.New("is too large")
	}
	return n, nil
}

// NewPassword returns a new random password with 128 bits of entropy, in
// upper-case base32 (26 characters), easy to read aloud and to type.
func NewPassword() string {
	return rand.Text()
}
