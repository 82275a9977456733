package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/puente-project/puente/internal/store"
)

// TokenPrefix starts every API token secret, so that tokens are easy to
// recognise in configuration files and by secret scanners.
const TokenPrefix = "puente_"

const tokenSecretLen = 32 // random bytes in a token

// NewToken returns a new API token: the secret, to be shown once and never
// stored, and the store.Token that records it, with a short public ID and
// the SHA-256 hash of the secret. The caller sets User and Created before
// storing it.
func NewToken() (secret string, t store.Token) {
	b := make([]byte, tokenSecretLen)
	rand.Read(b) // never fails (crypto/rand, Go ≥ 1.24)
	secret = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	id := make([]byte, 6)
	rand.Read(id)
	return secret, store.Token{
		ID:   "tok-" + hex.EncodeToString(id),
		Hash: sha256.Sum256([]byte(secret)),
	}
}

// isTokenSecret reports whether s has the exact form of a token secret:
// the prefix followed by 32 bytes in canonical unpadded base64url.
func isTokenSecret(s string) bool {
	rest, ok := strings.CutPrefix(s, TokenPrefix)
	if !ok || len(rest) != base64.RawURLEncoding.EncodedLen(tokenSecretLen) {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	return err == nil && len(b) == tokenSecretLen
}
