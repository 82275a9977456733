package auth

import (
	"errors"
	"strings"
	"testing"
)

// cheap are argon2id parameters fast enough for tests. VerifyPassword reads
// the parameters from the hash, so fixtures may use them.
var cheap = argon2Params{memory: 64, time: 1, threads: 1}

func TestHashPasswordRoundTrip(t *testing.T) {
	t.Parallel() // argon2 with the real parameters is slow under -race
	h, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatalf("HashPassword: %v", err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=2,p=2$") {
		t.Errorf("HashPassword = %q, want the argon2id PHC prefix with m=65536,t=2,p=2", h)
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{
		{"correct horse battery staple", true},
		{"correct horse battery stapl", false},
	} {
		got, err := VerifyPassword(h, tc.pw)
		if err != nil || got != tc.want {
			t.Errorf("VerifyPassword(h, %q) = %v, %v, want %v, nil", tc.pw, got, err, tc.want)
		}
	}
	if a, b := hashPassword("pw", cheap), hashPassword("pw", cheap); a == b {
		t.Errorf("two hashes of one password are equal; the salt is not random")
	}
}

func TestHashPasswordEmpty(t *testing.T) {
	if _, err := HashPassword(""); err == nil {
		t.Errorf("HashPassword(\"\") succeeded, want an error")
	}
}

func TestDummyHashUsesDefaultParams(t *testing.T) {
	p, _, _, err := parsePHC(dummyHash)
	if err != nil {
		t.Fatalf("parsePHC(dummyHash): %v", err)
	}
	if p != defaultParams {
		t.Errorf("dummyHash parameters = %+v, want %+v (timing must match real hashes)", p, defaultParams)
	}
}

func TestParsePHC(t *testing.T) {
	const (
		salt = "c2FsdHNhbHRzYWx0c2FsdA"                      // "saltsaltsaltsalt"
		key  = "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U" // 32 bytes
	)
	valid := []string{
		"$argon2id$v=19$m=65536,t=2,p=2$" + salt + "$" + key,
		"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=1048576,t=64,p=255$" + salt + "$" + key,
	}
	for _, s := range valid {
		if _, _, _, err := parsePHC(s); err != nil {
			t.Errorf("parsePHC(%q) = %v, want nil", s, err)
		}
	}
	invalid := []struct{ name, s string }{
		{"empty", ""},
		{"argon2i", "$argon2i$v=19$m=65536,t=2,p=2$" + salt + "$" + key},
		{"argon2d", "$argon2d$v=19$m=65536,t=2,p=2$" + salt + "$" + key},
		{"old version", "$argon2id$v=16$m=65536,t=2,p=2$" + salt + "$" + key},
		{"no version", "$argon2id$m=65536,t=2,p=2$" + salt + "$" + key},
		{"params out of order", "$argon2id$v=19$t=2,m=65536,p=2$" + salt + "$" + key},
		{"missing param", "$argon2id$v=19$m=65536,t=2$" + salt + "$" + key},
		{"extra param", "$argon2id$v=19$m=65536,t=2,p=2,k=1$" + salt + "$" + key},
		{"leading zero", "$argon2id$v=19$m=065536,t=2,p=2$" + salt + "$" + key},
		{"plus sign", "$argon2id$v=19$m=+65536,t=2,p=2$" + salt + "$" + key},
		{"space", "$argon2id$v=19$m=65536, t=2,p=2$" + salt + "$" + key},
		{"zero time", "$argon2id$v=19$m=65536,t=0,p=2$" + salt + "$" + key},
		{"zero threads", "$argon2id$v=19$m=65536,t=2,p=0$" + salt + "$" + key},
		{"too many threads", "$argon2id$v=19$m=65536,t=2,p=256$" + salt + "$" + key},
		{"memory below 8p", "$argon2id$v=19$m=15,t=2,p=2$" + salt + "$" + key},
		{"memory too large", "$argon2id$v=19$m=1048577,t=2,p=2$" + salt + "$" + key},
		{"time too large", "$argon2id$v=19$m=65536,t=65,p=2$" + salt + "$" + key},
		{"huge number", "$argon2id$v=19$m=99999999999999999999,t=2,p=2$" + salt + "$" + key},
		{"padded salt", "$argon2id$v=19$m=65536,t=2,p=2$" + salt + "==$" + key},
		{"url base64 salt", "$argon2id$v=19$m=65536,t=2,p=2$c2Fsd-Nh_HRzYWx0c2FsdA$" + key},
		{"non-canonical trailing bits", "$argon2id$v=19$m=65536,t=2,p=2$c2FsdHNhbHRzYWx0c2FsdB$" + key},
		{"short salt", "$argon2id$v=19$m=65536,t=2,p=2$c2FsdA$" + key},
		{"short key", "$argon2id$v=19$m=65536,t=2,p=2$" + salt + "$a2V5"},
		{"empty key", "$argon2id$v=19$m=65536,t=2,p=2$" + salt + "$"},
		{"trailing field", "$argon2id$v=19$m=65536,t=2,p=2$" + salt + "$" + key + "$"},
		{"no leading dollar", "argon2id$v=19$m=65536,t=2,p=2$" + salt + "$" + key},
		{"newline in base64", "$argon2id$v=19$m=65536,t=2,p=2$c2FsdHNh\nbHRzYWx0c2FsdA$" + key},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			p, s, k, err := parsePHC(tc.s)
			if !errors.Is(err, ErrMalformedHash) {
				t.Errorf("parsePHC(%q) error = %v, want ErrMalformedHash", tc.s, err)
			}
			if p != (argon2Params{}) || s != nil || k != nil {
				t.Errorf("parsePHC(%q) returned non-zero values with an error", tc.s)
			}
			if ok, err := VerifyPassword(tc.s, "pw"); ok || !errors.Is(err, ErrMalformedHash) {
				t.Errorf("VerifyPassword(%q) = %v, %v, want false, ErrMalformedHash", tc.s, ok, err)
			}
		})
	}
}

func TestParsePHCRoundTrip(t *testing.T) {
	h := hashPassword("pw", cheap)
	p, salt, key, err := parsePHC(h)
	if err != nil {
		t.Fatalf("parsePHC(%q): %v", h, err)
	}
	if got := encodePHC(p, salt, key); got != h {
		t.Errorf("encodePHC(parsePHC(%q)) = %q", h, got)
	}
}

func TestNewPassword(t *testing.T) {
	a, b := NewPassword(), NewPassword()
	if len(a) != 26 || a == b {
		t.Errorf("NewPassword() = %q, %q; want two different 26-character passwords", a, b)
	}
}

// FuzzParsePHC checks that the parser accepts exactly one spelling: what it
// parses encodes back to the same string, and errors come with zero values.
func FuzzParsePHC(f *testing.F) {
	f.Add(dummyHash)
	f.Add(hashPassword("pw", cheap))
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U")
	f.Add("$argon2id$v=19$m=065536,t=2,p=2$c2FsdHNhbHRzYWx0c2FsdA$a2V5")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := parsePHC(s)
		if err != nil {
			if p != (argon2Params{}) || salt != nil || key != nil {
				t.Fatalf("parsePHC(%q) returned values with error %v", s, err)
			}
			return
		}
		if got := encodePHC(p, salt, key); got != s {
			t.Fatalf("encodePHC(parsePHC(%q)) = %q", s, got)
		}
	})
}
