package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/puente-project/puente/internal/store"
)

// fakeStore holds users and tokens in memory. Calling any other method
// panics (through the nil embedded interface): the Authenticator must not.
type fakeStore struct {
	store.Store
	users  map[string]store.User
	tokens map[[32]byte]store.Token
	err    error // returned by every call when set
}

func (s *fakeStore) User(_ context.Context, name string) (store.User, error) {
	if s.err != nil {
		return store.User{}, s.err
	}
	u, ok := s.users[name]
	if !ok {
		return store.User{}, store.ErrNotFound
	}
	return u, nil
}

func (s *fakeStore) TokenByHash(_ context.Context, h [32]byte) (store.Token, error) {
	if s.err != nil {
		return store.Token{}, s.err
	}
	t, ok := s.tokens[h]
	if !ok {
		return store.Token{}, store.ErrNotFound
	}
	return t, nil
}

// fixture is a store with:
//
//	alice: enabled, password "alice-pw", roles analyst+liaison, token aliceTok
//	bob:   disabled, password "bob-pw", token bobTok
//	carol: enabled, no password
//	revokedTok: alice's, revoked; ghostTok: of a user that does not exist
type fixture struct {
	st                                     *fakeStore
	aliceTok, bobTok, revokedTok, ghostTok string
	unknownTok                             string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{st: &fakeStore{
		users: map[string]store.User{
			"alice": {Name: "alice", PasswordHash: hashPassword("alice-pw", cheap), Roles: []string{"analyst", "liaison"}},
			"bob":   {Name: "bob", PasswordHash: hashPassword("bob-pw", cheap), Roles: []string{"analyst"}, Disabled: true},
			"carol": {Name: "carol", Roles: []string{"analyst"}},
		},
		tokens: map[[32]byte]store.Token{},
	}}
	add := func(user string, revoked bool) string {
		secret, tok := NewToken()
		tok.User, tok.Revoked = user, revoked
		f.st.tokens[tok.Hash] = tok
		return secret
	}
	f.aliceTok = add("alice", false)
	f.bobTok = add("bob", false)
	f.revokedTok = add("alice", true)
	f.ghostTok = add("ghost", false)
	f.unknownTok, _ = NewToken()
	return f
}

func basic(user, pw string) http.Header {
	r := httptest.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pw)
	return r.Header
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func TestAuthenticate(t *testing.T) {
	t.Parallel() // unknown users cost a real argon2 check, slow under -race
	f := newFixture(t)
	alice := Principal{Name: "alice", Party: "MEX", Roles: []string{"analyst", "liaison"}}
	tests := []struct {
		name   string
		header http.Header
		want   Principal // zero: expect ErrUnauthenticated
	}{
		{"no credentials", header(), Principal{}},
		{"password", basic("alice", "alice-pw"), alice},
		{"wrong password", basic("alice", "alice-pw2"), Principal{}},
		{"password of another user", basic("alice", "bob-pw"), Principal{}},
		{"unknown user", basic("mallory", "alice-pw"), Principal{}},
		{"disabled user", basic("bob", "bob-pw"), Principal{}},
		{"user without password", basic("carol", "anything"), Principal{}},
		{"empty password", basic("alice", ""), Principal{}},
		{"empty user", basic("", "alice-pw"), Principal{}},
		{"bearer token", header("Authorization", "Bearer "+f.aliceTok), alice},
		{"bearer scheme case", header("Authorization", "bearer "+f.aliceTok), alice},
		{"bearer revoked", header("Authorization", "Bearer "+f.revokedTok), Principal{}},
		{"bearer disabled user", header("Authorization", "Bearer "+f.bobTok), Principal{}},
		{"bearer unknown user", header("Authorization", "Bearer "+f.ghostTok), Principal{}},
		{"bearer unknown token", header("Authorization", "Bearer "+f.unknownTok), Principal{}},
		{"bearer malformed", header("Authorization", "Bearer puente_abc"), Principal{}},
		{"bearer two spaces", header("Authorization", "Bearer  "+f.aliceTok), Principal{}},
		{"bearer empty", header("Authorization", "Bearer"), Principal{}},
		{"basic with token", basic("alice", f.aliceTok), alice},
		{"basic with token of another user", basic("bob", f.aliceTok), Principal{}},
		{"basic with revoked token", basic("alice", f.revokedTok), Principal{}},
		{"basic with disabled user's token", basic("bob", f.bobTok), Principal{}},
		{"basic garbage", header("Authorization", "Basic !!!"), Principal{}},
		{"basic without colon", header("Authorization", "Basic YWxpY2U="), Principal{}},
		{"two headers", header("Authorization", "Bearer "+f.aliceTok, "Authorization", "Bearer "+f.aliceTok), Principal{}},
		{"unknown scheme", header("Authorization", "Digest username=alice"), Principal{}},
	}
	a := NewAuthenticator(f.st, "MEX")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/taxii2/", nil)
			r.Header = tc.header
			got, err := a.Authenticate(r)
			if tc.want.Name == "" {
				if !errors.Is(err, ErrUnauthenticated) {
					t.Errorf("Authenticate() = %+v, %v, want ErrUnauthenticated", got, err)
				}
				if got.Name != "" || got.Roles != nil {
					t.Errorf("Authenticate() = %+v with an error, want the zero Principal", got)
				}
				return
			}
			if err != nil || got.Name != tc.want.Name || got.Party != tc.want.Party || !slices.Equal(got.Roles, tc.want.Roles) {
				t.Errorf("Authenticate() = %+v, %v, want %+v, nil", got, err, tc.want)
			}
		})
	}
}

// TestAuthenticateSameError checks that the reasons for refusing
// credentials cannot be told apart from the error.
func TestAuthenticateSameError(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a := NewAuthenticator(f.st, "MEX")
	var msgs []string
	for _, h := range []http.Header{
		basic("alice", "wrong"), basic("mallory", "x"), basic("bob", "bob-pw"),
		header("Authorization", "Bearer "+f.revokedTok), header("Authorization", "Bearer "+f.unknownTok),
		header("Authorization", "Bearer "+f.bobTok), basic("bob", f.aliceTok),
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header = h
		_, err := a.Authenticate(r)
		msgs = append(msgs, err.Error())
	}
	for _, m := range msgs[1:] {
		if m != msgs[0] {
			t.Errorf("error messages differ: %q and %q", msgs[0], m)
		}
	}
}

func TestAuthenticateStoreFailure(t *testing.T) {
	f := newFixture(t)
	boom := errors.New("disk on fire")
	f.st.err = boom
	a := NewAuthenticator(f.st, "MEX")
	for _, h := range []http.Header{basic("alice", "alice-pw"), header("Authorization", "Bearer "+f.aliceTok)} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header = h
		_, err := a.Authenticate(r)
		if !errors.Is(err, boom) || errors.Is(err, ErrUnauthenticated) {
			t.Errorf("Authenticate() error = %v, want the store's error and not ErrUnauthenticated", err)
		}
	}
}

// countChecks makes a count the argon2 verifications it runs.
func countChecks(a *Authenticator) *int {
	var mu sync.Mutex
	n := new(int)
	a.check = func(hash, pw string) (bool, error) {
		mu.Lock()
		*n++
		mu.Unlock()
		return VerifyPassword(hash, pw)
	}
	return n
}

func TestPasswordCache(t *testing.T) {
	f := newFixture(t)
	a := NewAuthenticator(f.st, "MEX")
	calls := countChecks(a)
	now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	a.now = func() time.Time { return now }
	auth := func(user, pw string) error {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header = basic(user, pw)
		_, err := a.Authenticate(r)
		return err
	}
	steps := []struct {
		name      string
		do        func()
		user, pw  string
		wantErr   bool
		wantCalls int // total argon2 checks so far
	}{
		{"first check runs argon2", nil, "alice", "alice-pw", false, 1},
		{"second check is cached", nil, "alice", "alice-pw", false, 1},
		{"wrong password is not cached", nil, "alice", "nope", true, 2},
		{"wrong password again runs argon2", nil, "alice", "nope", true, 3},
		{"still cached before expiry", func() { now = now.Add(defaultCacheTTL - time.Second) }, "alice", "alice-pw", false, 3},
		{"expired", func() { now = now.Add(time.Second) }, "alice", "alice-pw", false, 4},
		// A disabled user costs a full check whether the password is right
		// or not, so that timing cannot confirm it (nothing cached).
		{"disabled user refused at full cost", func() {
			u := f.st.users["alice"]
			u.Disabled = true
			f.st.users["alice"] = u
		}, "alice", "alice-pw", true, 5},
		{"disabled user, wrong password, same cost", nil, "alice", "nope", true, 6},
		{"password change drops the cached check", func() {
			u := f.st.users["alice"]
			u.Disabled = false
			u.PasswordHash = hashPassword("new-pw", cheap)
			f.st.users["alice"] = u
		}, "alice", "alice-pw", true, 7},
		{"new password works", nil, "alice", "new-pw", false, 8},
	}
	for _, s := range steps {
		if s.do != nil {
			s.do()
		}
		err := auth(s.user, s.pw)
		if (err != nil) != s.wantErr {
			t.Errorf("%s: Authenticate error = %v, want error %v", s.name, err, s.wantErr)
		}
		if *calls != s.wantCalls {
			t.Errorf("%s: argon2 checks = %d, want %d", s.name, *calls, s.wantCalls)
		}
	}
}

func TestPasswordCacheBounded(t *testing.T) {
	f := newFixture(t)
	a := NewAuthenticator(f.st, "MEX")
	a.cacheSize = 3
	for _, name := range []string{"u1", "u2", "u3", "u4", "u5"} {
		f.st.users[name] = store.User{Name: name, PasswordHash: hashPassword("pw", cheap)}
		r := httptest.NewRequest("GET", "/", nil)
		r.Header = basic(name, "pw")
		if _, err := a.Authenticate(r); err != nil {
			t.Fatalf("Authenticate(%s): %v", name, err)
		}
	}
	a.mu.Lock()
	n := len(a.cache)
	a.mu.Unlock()
	if n > 3 {
		t.Errorf("cache holds %d entries, want at most 3", n)
	}
}

func TestVerifyBusy(t *testing.T) {
	f := newFixture(t)
	a := NewAuthenticator(f.st, "MEX")
	a.maxWait = 20 * time.Millisecond
	for range cap(a.sem) { // every slot taken by other checks
		a.sem <- struct{}{}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header = basic("alice", "alice-pw")
	_, err := a.Authenticate(r)
	if !errors.Is(err, ErrBusy) || errors.Is(err, ErrUnauthenticated) {
		t.Errorf("Authenticate() with every slot taken: error = %v, want ErrBusy", err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	a.maxWait = time.Hour
	_, err = a.Authenticate(r.WithContext(ctx))
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnauthenticated) {
		t.Errorf("Authenticate() with a cancelled request: error = %v, want context.Canceled", err)
	}

	// Tokens need no argon2 and still work.
	r.Header = header("Authorization", "Bearer "+f.aliceTok)
	if _, err := a.Authenticate(r); err != nil {
		t.Errorf("Authenticate(token) with every password slot taken: %v", err)
	}
}

func TestVerifyConcurrencyBounded(t *testing.T) {
	f := newFixture(t)
	a := NewAuthenticator(f.st, "MEX")
	var mu sync.Mutex
	running, peak := 0, 0
	a.check = func(hash, pw string) (bool, error) {
		mu.Lock()
		running++
		peak = max(peak, running)
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		running--
		mu.Unlock()
		return false, nil
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header = basic("alice", "wrong")
			a.Authenticate(r)
		})
	}
	wg.Wait()
	if peak > defaultMaxVerify {
		t.Errorf("peak concurrent argon2 checks = %d, want at most %d", peak, defaultMaxVerify)
	}
}

func TestNewToken(t *testing.T) {
	secret, tok := NewToken()
	if !isTokenSecret(secret) {
		t.Errorf("NewToken() secret %q does not have the token form", secret)
	}
	if tok.Hash != sha256.Sum256([]byte(secret)) {
		t.Errorf("NewToken() hash is not the SHA-256 of the secret")
	}
	if len(tok.ID) != len("tok-")+12 {
		t.Errorf("NewToken() ID = %q, want tok- and 12 hex digits", tok.ID)
	}
	secret2, tok2 := NewToken()
	if secret2 == secret || tok2.ID == tok.ID {
		t.Errorf("two tokens are equal")
	}
}

func TestIsTokenSecret(t *testing.T) {
	valid, _ := NewToken()
	tests := []struct {
		s    string
		want bool
	}{
		{valid, true},
		{"puente_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", true},
		{"puente_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB", false}, // non-zero trailing bits
		{"puente_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false},
		{"puente_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", false},
		{"puente_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+A", false},
		{"Puente_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false},
		{valid[len(TokenPrefix):], false},
		{"", false},
	}
	for _, tc := range tests {
		if got := isTokenSecret(tc.s); got != tc.want {
			t.Errorf("isTokenSecret(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}
