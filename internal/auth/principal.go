// Package auth authenticates the people and tools that use a node: users
// with passwords (argon2id), API tokens (stored hashed), and, later, partner
// nodes by mutual TLS.
package auth

import "errors"

// ErrUnauthenticated means the request carried no credentials, or
// credentials that do not match an enabled account. Callers answer 401 and
// say nothing more.
var ErrUnauthenticated = errors.New("unauthenticated")

// Principal is who a request acts for.
type Principal struct {
	// Name is the user name (local users) or the party code (partners).
	Name string
	// Party is the ISO 3166-1 alpha-3 code of the principal's party.
	Party string
	// Agency is a local user's agency ("" for none, and for partners).
	Agency string
	// Roles are the user's roles: analyst, liaison, approver, auditor, admin.
	Roles []string
}
