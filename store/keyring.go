package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Keyring encrypts secrets with AES-256-GCM. The first key encrypts; every
// key decrypts, so a new key can be put first while rows written under the
// old one are still read, and rewritten under the new one when they change.
type Keyring struct {
	ids   []string
	aeads map[string]cipher.AEAD
}

// ErrUnknownKey means a ciphertext names a key the keyring does not have.
var ErrUnknownKey = errors.New("store: secret encrypted with an unknown key")

// ParseKeyring reads "id:key,id:key" where each key is 32 bytes in base64 or
// hex. The first pair encrypts.
func ParseKeyring(spec string) (*Keyring, error) {
	k := &Keyring{aeads: map[string]cipher.AEAD{}}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, enc, ok := strings.Cut(part, ":")
		if !ok || id == "" || strings.ContainsAny(id, ".") {
			return nil, fmt.Errorf("store: encryption key %q: want id:key", id)
		}
		raw, err := decodeKey(enc)
		if err != nil {
			return nil, fmt.Errorf("store: encryption key %q: %w", id, err)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		if _, dup := k.aeads[id]; dup {
			return nil, fmt.Errorf("store: encryption key id %q given twice", id)
		}
		k.ids = append(k.ids, id)
		k.aeads[id] = aead
	}
	if len(k.ids) == 0 {
		return nil, errors.New("store: no encryption key")
	}
	return k, nil
}

func decodeKey(s string) ([]byte, error) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	return nil, errors.New("want 32 bytes in base64 or hex")
}

// NewKey returns a fresh random key in the form ParseKeyring reads.
func NewKey(id string) string {
	b := make([]byte, 32)
	rand.Read(b)
	return id + ":" + base64.StdEncoding.EncodeToString(b)
}

// Encrypt seals plaintext under the first key as "id.nonce||ciphertext".
// The key id is bound as additional data so a ciphertext cannot be relabelled.
func (k *Keyring) Encrypt(plaintext []byte) []byte {
	id := k.ids[0]
	aead := k.aeads[id]
	out := make([]byte, 0, len(id)+1+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out = append(out, id...)
	out = append(out, '.')
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	out = append(out, nonce...)
	return aead.Seal(out, nonce, plaintext, []byte(id))
}

// Decrypt opens a value sealed by Encrypt under any key of the keyring.
func (k *Keyring) Decrypt(sealed []byte) ([]byte, error) {
	dot := -1
	for i, b := range sealed {
		if b == '.' {
			dot = i
			break
		}
	}
	if dot <= 0 {
		return nil, errors.New("store: malformed secret")
	}
	id := string(sealed[:dot])
	aead, ok := k.aeads[id]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownKey, id)
	}
	rest := sealed[dot+1:]
	if len(rest) < aead.NonceSize() {
		return nil, errors.New("store: malformed secret")
	}
	pt, err := aead.Open(nil, rest[:aead.NonceSize()], rest[aead.NonceSize():], []byte(id))
	if err != nil {
		return nil, fmt.Errorf("store: secret does not decrypt: %w", err)
	}
	return pt, nil
}

// CurrentKeyID returns the id of the key that encrypts.
func (k *Keyring) CurrentKeyID() string { return k.ids[0] }

// NeedsRotation reports whether sealed was encrypted under an older key.
func (k *Keyring) NeedsRotation(sealed []byte) bool {
	return !strings.HasPrefix(string(sealed), k.ids[0]+".")
}
