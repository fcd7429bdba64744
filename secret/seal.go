package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
)

// encryptionLabel separates the data-encryption keys derived from a signing
// key from the key itself, so the same keyring material never serves as
// both an HMAC key and an AES key.
const encryptionLabel = "accountd data encryption"

// ErrOpen is what Open reports for any ciphertext it cannot open: unknown
// key, tampering, a different context or a malformed value.
var ErrOpen = errors.New("secret: ciphertext cannot be opened")

func dataKey(k Key) (cipher.AEAD, error) {
	raw, err := hkdf.Key(sha256.New, k.Secret, nil, encryptionLabel, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Seal encrypts plaintext with AES-256-GCM under a key derived from the
// keyring's first key, bound to context (e.g. what the value is and whose
// it is, so a ciphertext copied to another row does not open). The result
// is "keyid:base64url(nonce|ciphertext)": the key id lets Open pick the
// key after a rotation, so rotating the keyring rotates encryption too.
func (kr *Keyring) Seal(plaintext []byte, context string, random io.Reader) (string, error) {
	k := kr.keys[0]
	aead, err := dataKey(k)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := io.ReadFull(random, nonce); err != nil {
		return "", fmt.Errorf("secret: reading nonce: %w", err)
	}
	out := aead.Seal(nonce, nonce, plaintext, []byte(context))
	return k.ID + ":" + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts what Seal produced with any key of the keyring.
func (kr *Keyring) Open(sealed, context string) ([]byte, error) {
	id, body, ok := strings.Cut(sealed, ":")
	if !ok {
		return nil, ErrOpen
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return nil, ErrOpen
	}
	for _, k := range kr.keys {
		if k.ID != id {
			continue
		}
		aead, err := dataKey(k)
		if err != nil {
			return nil, err
		}
		if len(raw) < aead.NonceSize() {
			return nil, ErrOpen
		}
		plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(context))
		if err != nil {
			return nil, ErrOpen
		}
		return plain, nil
	}
	return nil, ErrOpen
}
