package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/puente-project/puente/internal/store"
)

// ErrBusy means too many password checks are running at once and this one
// waited too long for its turn. It is not a verdict on the credentials:
// callers answer 503 with a Retry-After header.
var ErrBusy = errors.New("too many password checks at once")

// errBadCredentials is the one answer to every credential that does not
// match an enabled account, so that nothing tells an unknown user from a
// wrong password, a disabled user or a revoked token.
var errBadCredentials = fmt.Errorf("bad credentials: %w", ErrUnauthenticated)

// dummyHash is verified in place of a real hash when the user does not
// exist or has no password, so that the answer takes as long as for a real
// user. Its password is unknown; its parameters are defaultParams.
const dummyHash = "$argon2id$v=19$m=65536,t=2,p=2$FEnGh+pbTIoZ+oHSeHbgWA$HVAcqwZOSBoe6LYu1YPMkNFvAW3uwMcmlQ0knPnQ7OA"

// Defaults of an Authenticator.
const (
	// defaultMaxVerify bounds concurrent argon2 verifications. Each one
	// holds 64 MiB, so a flood of bad passwords costs at most 128 MiB.
	defaultMaxVerify = 2
	// defaultMaxWait is how long a password check waits for its turn
	// before it fails with ErrBusy.
	defaultMaxWait = 10 * time.Second
	// defaultCacheTTL is how long a successful password check is reused.
	defaultCacheTTL = 5 * time.Minute
	// defaultCacheSize bounds the cache of successful password checks.
	defaultCacheSize = 1024
)

// Authenticator checks the credentials of HTTP requests against the users
// and API tokens of a store. It is safe for concurrent use.
//
// Because argon2id is slow on purpose, it remembers successful password
// checks in memory for a few minutes, keyed by the user and a keyed hash of
// the password. A remembered check is used only while the user's stored
// hash is unchanged, and whether the user is disabled is read from the
// store on every request, so a password change or a disabled account takes
// effect at once.
type Authenticator struct {
	st    store.Store
	party string

	sem       chan struct{} // one slot per running argon2 verification
	maxWait   time.Duration
	cacheTTL  time.Duration
	cacheSize int
	cacheMAC  []byte // HMAC-SHA256 key for cache keys, random per Authenticator
	now       func() time.Time
	check     func(hash, pw string) (bool, error) // VerifyPassword; tests count calls

	mu    sync.Mutex
	cache map[cacheKey]cacheEntry // guarded by mu
}

type cacheKey struct {
	user string
	pw   [32]byte // HMAC-SHA256(cacheMAC, password)
}

type cacheEntry struct {
	hash    string // the stored hash the password was checked against
	expires time.Time
}

// NewAuthenticator returns an Authenticator for the users and tokens of st.
// party is the node's party code, given to every principal it returns.
func NewAuthenticator(st store.Store, party string) *Authenticator {
	key := make([]byte, 32)
	rand.Read(key) // never fails (crypto/rand, Go ≥ 1.24)
	return &Authenticator{
		st:        st,
		party:     party,
		sem:       make(chan struct{}, defaultMaxVerify),
		maxWait:   defaultMaxWait,
		cacheTTL:  defaultCacheTTL,
		cacheSize: defaultCacheSize,
		cacheMAC:  key,
		now:       time.Now,
		check:     VerifyPassword,
		cache:     make(map[cacheKey]cacheEntry),
	}
}

// Authenticate returns the principal that r acts for. It accepts
//
//	Authorization: Basic base64(user ":" password)
//	Authorization: Basic base64(user ":" token)   (the token must be the user's)
//	Authorization: Bearer token
//
// Missing, malformed or wrong credentials, unknown or disabled users and
// revoked tokens all give an error wrapping ErrUnauthenticated that does
// not say which. ErrBusy means the server is overloaded; any other error is
// a server fault.
func (a *Authenticator) Authenticate(r *http.Request) (Principal, error) {
	ctx := r.Context()
	vals := r.Header.Values("Authorization")
	if len(vals) == 0 {
		return Principal{}, fmt.Errorf("no credentials: %w", ErrUnauthenticated)
	}
	if len(vals) > 1 {
		return Principal{}, fmt.Errorf("more than one Authorization header: %w", ErrUnauthenticated)
	}
	scheme, cred, _ := strings.Cut(vals[0], " ")
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		if !isTokenSecret(cred) {
			return Principal{}, errBadCredentials
		}
		return a.checkToken(ctx, "", cred)
	case strings.EqualFold(scheme, "Basic"):
		user, pw, ok := r.BasicAuth()
		if !ok || user == "" || pw == "" {
			return Principal{}, fmt.Errorf("malformed Basic credentials: %w", ErrUnauthenticated)
		}
		if isTokenSecret(pw) {
			return a.checkToken(ctx, user, pw)
		}
		return a.checkPassword(ctx, user, pw)
	default:
		return Principal{}, fmt.Errorf("unsupported authorization scheme: %w", ErrUnauthenticated)
	}
}

// checkToken authenticates a token secret. When user is not empty the
// token must belong to that user.
func (a *Authenticator) checkToken(ctx context.Context, user, secret string) (Principal, error) {
	t, err := a.st.TokenByHash(ctx, sha256.Sum256([]byte(secret)))
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, errBadCredentials
	}
	if err != nil {
		return Principal{}, fmt.Errorf("auth: look up token: %w", err)
	}
	if t.Revoked || (user != "" && t.User != user) {
		return Principal{}, errBadCredentials
	}
	u, err := a.st.User(ctx, t.User)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, errBadCredentials
	}
	if err != nil {
		return Principal{}, fmt.Errorf("auth: look up user of token %s: %w", t.ID, err)
	}
	if u.Disabled {
		return Principal{}, errBadCredentials
	}
	return a.principal(u), nil
}

func (a *Authenticator) checkPassword(ctx context.Context, name, pw string) (Principal, error) {
	u, err := a.st.User(ctx, name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Principal{}, fmt.Errorf("auth: look up user: %w", err)
	}
	if err != nil || u.PasswordHash == "" {
		// Spend the same time as for a real user, then refuse.
		if _, err := a.verify(ctx, dummyHash, pw); err != nil {
			return Principal{}, err
		}
		return Principal{}, errBadCredentials
	}
	if u.Disabled {
		// Same cost as a real check, and nothing cached: a disabled
		// account's password cannot be confirmed by timing.
		if _, err := a.verify(ctx, dummyHash, pw); err != nil {
			return Principal{}, err
		}
		return Principal{}, errBadCredentials
	}
	key := cacheKey{user: name, pw: a.mac(pw)}
	if !a.cached(key, u.PasswordHash) {
		ok, err := a.verify(ctx, u.PasswordHash, pw)
		if err != nil {
			return Principal{}, fmt.Errorf("auth: check password of user %q: %w", name, err)
		}
		if !ok {
			return Principal{}, errBadCredentials
		}
		a.remember(key, u.PasswordHash)
	}
	return a.principal(u), nil
}

// verify runs VerifyPassword when a slot is free. It fails with ErrBusy
// when none frees up within maxWait.
func (a *Authenticator) verify(ctx context.Context, hash, pw string) (bool, error) {
	timer := time.NewTimer(a.maxWait)
	defer timer.Stop()
	select {
	case a.sem <- struct{}{}:
	case <-timer.C:
		return false, ErrBusy
	case <-ctx.Done():
		return false, fmt.Errorf("wait for a password check: %w", context.Cause(ctx))
	}
	defer func() { <-a.sem }()
	return a.check(hash, pw)
}

func (a *Authenticator) mac(pw string) [32]byte {
	m := hmac.New(sha256.New, a.cacheMAC)
	m.Write([]byte(pw))
	var sum [32]byte
	m.Sum(sum[:0])
	return sum
}

// cached reports whether the password in key was checked against hash
// within the last cacheTTL.
func (a *Authenticator) cached(key cacheKey, hash string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.cache[key]
	if !ok {
		return false
	}
	if e.hash != hash || !a.now().Before(e.expires) {
		delete(a.cache, key)
		return false
	}
	return true
}

// remember records a successful password check.
func (a *Authenticator) remember(key cacheKey, hash string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if len(a.cache) >= a.cacheSize {
		a.pruneLocked(now)
	}
	a.cache[key] = cacheEntry{hash: hash, expires: now.Add(a.cacheTTL)}
}

// pruneLocked drops expired entries and, if the cache is still full, as
// many others as needed to make room for one. a.mu must be held.
func (a *Authenticator) pruneLocked(now time.Time) {
	for k, e := range a.cache {
		if !now.Before(e.expires) {
			delete(a.cache, k)
		}
	}
	for k := range a.cache {
		if len(a.cache) < a.cacheSize {
			break
		}
		delete(a.cache, k)
	}
}

func (a *Authenticator) principal(u store.User) Principal {
	return Principal{Name: u.Name, Party: a.party, Agency: u.Agency, Roles: slices.Clone(u.Roles)}
}
