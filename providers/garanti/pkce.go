package garanti

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// NewPKCE returns a fresh RFC 7636 code verifier (43 characters of
// base64url from 32 random bytes) and its S256 challenge.
func NewPKCE() (verifier, challenge string) {
	verifier = randomURLSafe(32)
	return verifier, PKCEChallenge(verifier)
}

// PKCEChallenge is the S256 challenge of verifier.
func PKCEChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// NewState returns a one-time OAuth state: 32 random bytes, URL-safe.
func NewState() string { return randomURLSafe(32) }

func randomURLSafe(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("garanti: crypto/rand: " + err.Error()) // never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
