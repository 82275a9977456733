package auth_test

import (
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/puente-project/puente/internal/auth"
)

func ExampleHashPassword() {
	hash, err := auth.HashPassword("correct horse battery staple")
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.HasPrefix(hash, "$argon2id$v=19$m=65536,t=2,p=2$"))

	ok, err := auth.VerifyPassword(hash, "correct horse battery staple")
	fmt.Println(ok, err)
	// Output:
	// true
	// true <nil>
}

func ExampleNewToken() {
	secret, tok := auth.NewToken()
	// Store tok (with User and Created set); show secret once.
	fmt.Println(strings.HasPrefix(secret, auth.TokenPrefix), len(secret))
	fmt.Println(tok.Hash == sha256.Sum256([]byte(secret)))
	// Output:
	// true 50
	// true
}
