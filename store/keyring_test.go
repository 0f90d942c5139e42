package store_test

import (
	"bytes"
	"errors"
	"testing"

	"kasa/store"
)

func TestKeyringRotation(t *testing.T) {
	t.Parallel()
	oldKey, newKey := store.NewKey("old"), store.NewKey("new")
	before, err := store.ParseKeyring(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	sealed := before.Encrypt([]byte("client-secret"))
	if bytes.Contains(sealed, []byte("client-secret")) {
		t.Fatal("ciphertext contains the plaintext")
	}

	// New key first: old ciphertexts still read, new ones use the new key.
	after, err := store.ParseKeyring(newKey + "," + oldKey)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := after.Decrypt(sealed)
	if err != nil || string(pt) != "client-secret" {
		t.Fatalf("decrypt under rotated keyring = %q, %v", pt, err)
	}
	if !after.NeedsRotation(sealed) {
		t.Error("a value under the old key should need rotation")
	}
	resealed := after.Encrypt(pt)
	if after.NeedsRotation(resealed) || after.CurrentKeyID() != "new" {
		t.Error("new values must use the first key")
	}
	// The old keyring alone cannot read values under the new key.
	if _, err := before.Decrypt(resealed); !errors.Is(err, store.ErrUnknownKey) {
		t.Errorf("decrypt with a missing key: %v, want ErrUnknownKey", err)
	}
	// Relabelling a ciphertext with another key id fails authentication.
	forged := append([]byte("old"), resealed[len("new"):]...)
	if _, err := after.Decrypt(forged); err == nil {
		t.Error("a relabelled ciphertext decrypted")
	}
	// Tampering fails.
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	if _, err := after.Decrypt(tampered); err == nil {
		t.Error("a tampered ciphertext decrypted")
	}
}

func TestParseKeyringRejectsBadSpecs(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{"", "nokey", "k1:short", "k1:" + "zz" + string(make([]byte, 0)), store.NewKey("a") + "," + store.NewKey("a")} {
		if _, err := store.ParseKeyring(spec); err == nil {
			t.Errorf("ParseKeyring(%q) accepted", spec)
		}
	}
}
